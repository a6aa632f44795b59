// The README's headline claims, measured fairly on Brown:
//   optimizers: FOCUS vs AdamW vs Signum with an equal tuning budget, the winners at fresh seeds and two sizes;
//   schedules:  cosine tuned to each budget vs WSD with branched decays vs WSD-S, decay length and shape, the loss law.
//
//   dotnet run -c Release --project samples/HeadlineClaims -- optimizers            # the full run (see --help for the budget)
//   dotnet run -c Release --project samples/HeadlineClaims -- schedules --quick     # a smoke run (seconds)
//   dotnet run -c Release --project samples/HeadlineClaims -- --help
//
// Writes its CSV tables, a markdown report and SVG + PNG charts into --out (default runs/headline-claims).
using System.CommandLine;
using Pipelines.Samples;

var quickOption = new Option<bool>("--quick") { Description = "A smoke run: tiny models, a few dozen steps, one seed (seconds)." };
var stepsOption = new Option<int?>("--steps") { Description = "The budget: steps of each optimizer run (default 2000; 40 with --quick), or the largest schedule budget T3, a multiple of 16 (default 3200; 64 with --quick; T1 = T3/4, T2 = T3/2)." };
var seedsOption = new Option<int?>("--seeds") { Description = "Seeds of each final comparison (default 3; 1 with --quick)." };
var threadsOption = new Option<int>("--threads") { Description = "Runs trained at once, each on one thread.", DefaultValueFactory = _ => 2 };
var outputOption = new Option<string>("--out") { Description = "Where the CSV, markdown and charts go.", DefaultValueFactory = _ => Path.Combine("runs", "headline-claims") };
var trialsOption = new Option<int?>("--trials") { Description = "Random-search trials per optimizer, the same for each (default 8; 2 with --quick)." };
var sizesOption = new Option<string[]?>("--sizes")
{
    Description = "Model sizes as LAYERSxCHANNELS, the first also the tuning size (default 2x64 3x96; 1x32 1x48 with --quick); the schedules use the first.",
    AllowMultipleArgumentsPerToken = true,
};

var optimizers = new Command("optimizers", "FOCUS, AdamW and Signum with the same number of tuning runs each, then each one's best at fresh seeds and two model sizes.")
{
    quickOption, stepsOption, seedsOption, trialsOption, sizesOption, threadsOption, outputOption,
};
optimizers.SetAction(parsed => HeadlineRuns.Optimizers(new HeadlineArguments(parsed.GetValue(quickOption), parsed.GetValue(stepsOption), parsed.GetValue(seedsOption),
    parsed.GetValue(threadsOption), parsed.GetValue(outputOption)!), parsed.GetValue(trialsOption), parsed.GetValue(sizesOption)));

var ratesOption = new Option<double[]?>("--rates")
{
    Description = "Peak learning rates tried for the schedules (AdamW): cosine at every budget, WSD at the first (default 2e-3 4e-3 8e-3).",
    AllowMultipleArgumentsPerToken = true,
};
var schedules = new Command("schedules", "Cosine tuned to each of three budgets against one WSD run with branched decays and one WSD-S run; decay length and shape; the annealing loss law.")
{
    quickOption, stepsOption, seedsOption, ratesOption, sizesOption, threadsOption, outputOption,
};
schedules.SetAction(parsed => HeadlineRuns.Schedules(new HeadlineArguments(parsed.GetValue(quickOption), parsed.GetValue(stepsOption), parsed.GetValue(seedsOption),
    parsed.GetValue(threadsOption), parsed.GetValue(outputOption)!), parsed.GetValue(ratesOption), parsed.GetValue(sizesOption)));

var root = new RootCommand("Measures the README's headline claims on the Brown corpus: optimizers at an equal tuning budget, and WSD / WSD-S against cosine.")
{
    optimizers, schedules,
};
return root.Parse(args).Invoke();
