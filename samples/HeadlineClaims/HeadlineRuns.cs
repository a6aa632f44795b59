using System.Diagnostics;
using System.Globalization;
using Pipelines.Experiments;
using Spectre.Console;

namespace Pipelines.Samples;

/// <summary>What both subcommands take from the command line.</summary>
internal sealed record HeadlineArguments(bool Quick, int? Steps, int? Seeds, int Threads, string Output);

/// <summary>The two experiments of the sample: Brown, the setups, a progress bar, the reports.</summary>
internal static class HeadlineRuns
{
    public static int Optimizers(HeadlineArguments arguments, int? trials, string[]? sizes) =>
        ConsoleCancellation.Run(cancellation => Optimizers(arguments, trials, sizes, cancellation));

    private static int Optimizers(HeadlineArguments arguments, int? trials, string[]? sizes, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        var corpus = LoadCorpus();
        var steps = arguments.Steps ?? (arguments.Quick ? 40 : 2000);
        var shapes = (sizes is { Length: > 0 } ? sizes : arguments.Quick ? ["1x32", "1x48"] : ["2x64", "3x96"]).Select(ParseSize).ToArray();
        var models = shapes.Select(shape => BrownSetup.SmallGpt(corpus, steps, evaluationInterval: Math.Max(1, steps / 20), arguments.Quick, shape.Layers, shape.Channels)).ToArray();
        var setup = models[0];
        var options = new OptimizerTuningOptions(setup, models.Select(model => ModelSize.Of(model.Model)).ToArray())
        {
            Trials = trials ?? (arguments.Quick ? 2 : 8),
            Seeds = arguments.Seeds ?? (arguments.Quick ? 1 : 3),
            TimingSteps = arguments.Quick ? 3 : 20,
        };
        var runCount = options.Optimizers.Count * (options.Trials + options.Sizes.Count * options.Seeds);
        Console.WriteLine(Invariant($"{runCount} runs of {steps} steps x {setup.Training.BatchSize} x {setup.Training.SequenceLength} tokens ({setup.TokensPerRun:N0} tokens each): {options.Trials} tuning runs per optimizer at {options.Sizes[0].Name}, then the best at seeds 1..{options.Seeds} and sizes {string.Join(", ", options.Sizes.Select(size => size.Name))}; {arguments.Threads} at a time"));
        var result = ExperimentProgress.Run<PretrainingRunResult, OptimizerTuningResult>($"{runCount} runs", runCount, Describe,
            progress => OptimizerTuningExperiment.Run(options, corpus.Training, corpus.Validation, arguments.Threads, progress, cancellation));
        OptimizerTuningReport.Write(result, arguments.Output);
        Console.WriteLine();
        Console.Write(OptimizerTuningReport.Markdown(result));

        AnsiConsole.MarkupLine(Markup.Escape(Invariant($"Wrote {Path.GetFullPath(arguments.Output)} in {clock.Elapsed.TotalMinutes:F1} min.")));
        return 0;
    }

    public static int Schedules(HeadlineArguments arguments, double[]? rates, string[]? sizes) =>
        ConsoleCancellation.Run(cancellation => Schedules(arguments, rates, sizes, cancellation));

    private static int Schedules(HeadlineArguments arguments, double[]? rates, string[]? sizes, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        var budget = arguments.Steps ?? (arguments.Quick ? 64 : 3200);
        if (budget < 16 || budget % 16 != 0) throw new ArgumentOutOfRangeException("--steps", budget, $"--steps {budget}: the largest budget T3 must be a positive multiple of 16, so that T1 = T3/4 is evaluated every T1/4 steps.");
        var corpus = LoadCorpus();
        var shape = ParseSize(sizes is { Length: > 0 } ? sizes[0] : arguments.Quick ? "1x32" : "2x64");
        long[] budgets = [budget / 4, budget / 2, budget];
        var setup = BrownSetup.SmallGpt(corpus, budget, evaluationInterval: budget / 16, arguments.Quick, shape.Layers, shape.Channels);
        var options = new ScheduleComparisonOptions(setup, budgets)
        {
            Seeds = arguments.Seeds ?? (arguments.Quick ? 1 : 3),
            PeakLearningRates = rates is { Length: > 0 } ? rates : arguments.Quick ? [3e-3, 8e-3] : [2e-3, 4e-3, 8e-3],
        };
        var rateCount = options.PeakLearningRates.Count;
        var models = rateCount * (budgets.Length + 1) + options.Seeds * (budgets.Length * (2 + options.DecayFractions.Count) + options.OtherDecayShapes.Count);
        Console.WriteLine(Invariant($"Budgets {string.Join(" < ", budgets)} steps x {setup.Training.BatchSize} x {setup.Training.SequenceLength} tokens, GPT {ModelSize.Of(setup.Model).Name}; {models} models: tuning at seed 0, then seeds 1..{options.Seeds}; {arguments.Threads} jobs at a time"));
        var result = ExperimentProgress.Run<ScheduleRun, ScheduleComparisonResult>($"{models} models", models,
            run => Invariant($"  {run.Schedule,-16} seed {run.Seed} T {run.Budget,-5} lr {run.PeakLearningRate,-7:G3} final validation loss {run.FinalValidationLoss:F4}  ({run.Elapsed.TotalSeconds:F0} s)"),
            progress => ScheduleComparisonExperiment.Run(options, corpus.Training, corpus.Validation, arguments.Threads, progress, cancellation));
        ScheduleComparisonReport.Write(result, arguments.Output);
        Console.WriteLine();
        Console.Write(ScheduleComparisonReport.Markdown(result));

        AnsiConsole.MarkupLine(Markup.Escape(Invariant($"Wrote {Path.GetFullPath(arguments.Output)} in {clock.Elapsed.TotalMinutes:F1} min.")));
        return 0;
    }

    /// <summary>Reads <c>LAYERSxCHANNELS</c>, e.g. <c>2x64</c>.</summary>
    /// <exception cref="ArgumentException">Not two positive whole numbers around an x.</exception>
    private static (int Layers, int Channels) ParseSize(string text)
    {
        var parts = text.Split('x', 'X');
        if (parts.Length == 2 && int.TryParse(parts[0], CultureInfo.InvariantCulture, out var layers) && int.TryParse(parts[1], CultureInfo.InvariantCulture, out var channels)
            && layers >= 1 && channels >= 4 && channels % 4 == 0)
            return (layers, channels);
        throw new ArgumentException($"--sizes: '{text}' is not LAYERSxCHANNELS with layers >= 1 and channels a multiple of the 4 heads, e.g. 2x64.", nameof(text));
    }

    private static BrownCorpus LoadCorpus()
    {
        var clock = Stopwatch.StartNew();
        var corpus = BrownCorpus.Load(vocabularySize: 1024);
        Console.WriteLine(Invariant($"Brown: {corpus.Training.Length:N0} training and {corpus.Validation.Length:N0} validation tokens, vocabulary {corpus.Encoding.VocabularySize} ({clock.Elapsed.TotalSeconds:F1} s)"));
        return corpus;
    }

    private static string Describe(PretrainingRunResult run) => Invariant(
        $"  {run.Name,-7} lr {run.PeakLearningRate,-7:G3} final validation loss {(run.Diverged ? $"diverged at step {run.DivergedAtStep}" : run.FinalValidationLoss.ToString("F4", CultureInfo.InvariantCulture))}  ({run.Elapsed.TotalSeconds:F0} s)");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
