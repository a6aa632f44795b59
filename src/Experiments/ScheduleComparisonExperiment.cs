using System.Globalization;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Schedules;
using Pipelines.Components.Serialization;
using Pipelines.Components.Training;

namespace Pipelines.Experiments;

/// <summary>
/// WSD and WSD-S against cosine at equal compute for several budgets: cosine tuned to each budget, one WSD run whose
/// decays branch from its stable phase at each budget (10% and 20% of the budget), one WSD-S run through all budgets,
/// the decay's shape at the middle budget, and the annealing loss law fitted on the cosine runs predicting the others.
/// </summary>
/// <remarks>
/// WSD and branching: MiniCPM, arXiv 2404.06395; WSD-S: arXiv 2410.05192; the loss law: arXiv 2408.11029. The WSD
/// branches and the WSD-S run go through <see cref="WsdRuns"/> (checkpoints in a temporary directory, removed at the
/// end). Every model's final validation loss is measured the same way, on <see cref="PretrainingSetup.FinalEvaluationBatches"/>
/// fixed batches after exactly its budget of steps. Reports: <see cref="ScheduleComparisonReport"/>. Example:
/// <c>samples/HeadlineClaims</c> (<c>schedules</c>).
/// </remarks>
public static class ScheduleComparisonExperiment
{
    /// <summary>The schedules' names in results and reports.</summary>
    public const string CosineName = "cosine";

    /// <summary>The name of a WSD run with a decay of <paramref name="shape"/> over <paramref name="fraction"/> of the budget.</summary>
    public static string WsdName(DecayShape shape, double fraction) => string.Create(CultureInfo.InvariantCulture, $"WSD {ShapeName(shape)} {fraction:P0}").Replace(" %", "%", StringComparison.Ordinal);

    /// <summary>The name of the WSD-S run with decays over <paramref name="fraction"/> of each cycle.</summary>
    public static string WsdsName(double fraction) => string.Create(CultureInfo.InvariantCulture, $"WSD-S {fraction:P0}").Replace(" %", "%", StringComparison.Ordinal);

    /// <summary>Tunes the peaks at seed 0, then runs every schedule at seeds 1..n, then fits and scores the loss law.</summary>
    /// <param name="options">Budgets, rates, seeds and decays.</param>
    /// <param name="trainingTokens">The training stream.</param>
    /// <param name="validationTokens">The validation stream.</param>
    /// <param name="threads">Jobs run at once, each model on one thread (results do not depend on it).</param>
    /// <param name="progress">Told after each finished model.</param>
    /// <param name="cancellationToken">Stops between and inside runs.</param>
    /// <exception cref="TrainingDivergedException">A comparison run diverged (lower the rates).</exception>
    public static ScheduleComparisonResult Run(ScheduleComparisonOptions options, int[] trainingTokens, int[] validationTokens, int threads = 1,
        IProgress<ScheduleRun>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var data = new Tokens(trainingTokens, validationTokens);
        var mainWsd = WsdName(DecayShape.Linear, options.MainDecayFraction);
        var tuningJobs = options.Budgets.SelectMany(budget => options.PeakLearningRates.Select(rate => (Func<ScheduleRun[]>)(() =>
                [Single(options, CosineName, options.Cosine(rate, budget), rate, budget, 0, data, cancellationToken)])))
            .Concat(options.PeakLearningRates.Select(rate => (Func<ScheduleRun[]>)(() =>
                [Single(options, mainWsd, options.Wsd(rate, options.Budgets[0], options.MainDecayFraction), rate, options.Budgets[0], 0, data, cancellationToken)])))
            .ToArray();
        var tuning = ExperimentJobs.Run(tuningJobs, threads, runs => Report(progress, runs), cancellationToken).SelectMany(runs => runs).ToArray();
        var cosineRates = options.Budgets.Select(budget => tuning.Where(run => run.Schedule == CosineName && run.Budget == budget).MinBy(run => run.FinalValidationLoss)!.PeakLearningRate).ToArray();
        var wsdRate = tuning.Where(run => run.Schedule == mainWsd).MinBy(run => run.FinalValidationLoss)!.PeakLearningRate;

        var scratch = Path.Combine(Path.GetTempPath(), "pipelines-schedules-" + Guid.NewGuid().ToString("N"));
        try
        {
            var jobs = new List<Func<ScheduleRun[]>>();
            foreach (var seed in Enumerable.Range(1, options.Seeds))
            {
                jobs.Add(() => WsdBranches(options, wsdRate, seed, data, Path.Combine(scratch, Invariant($"wsd-{seed}")), cancellationToken));
                jobs.Add(() => Wsds(options, wsdRate, seed, data, Path.Combine(scratch, Invariant($"wsds-{seed}")), cancellationToken));
                for (var index = options.Budgets.Count - 1; index >= 0; index--)
                {
                    var (budget, rate) = (options.Budgets[index], cosineRates[index]);
                    jobs.Add(() => [Single(options, CosineName, options.Cosine(rate, budget), rate, budget, seed, data, cancellationToken)]);
                }

                foreach (var shape in options.OtherDecayShapes)
                    jobs.Add(() => [Single(options, WsdName(shape, options.MainDecayFraction), options.Wsd(wsdRate, options.ShapeBudget, options.MainDecayFraction, shape),
                        wsdRate, options.ShapeBudget, seed, data, cancellationToken)]);
            }

            var runs = ExperimentJobs.Run(jobs, threads, finished => Report(progress, finished), cancellationToken).SelectMany(finished => finished).ToArray();
            return new ScheduleComparisonResult(options, tuning, runs, ScheduleLossLaw.Score(options, runs));
        }
        finally
        {
            if (Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true);
        }
    }

    private static void Report(IProgress<ScheduleRun>? progress, ScheduleRun[] runs)
    {
        foreach (var run in runs) progress?.Report(run);
    }

    private static ScheduleRun Single(ScheduleComparisonOptions options, string name, ISchedule schedule, double rate, long budget, int seed, Tokens data,
        CancellationToken cancellationToken)
    {
        var transform = OptimizerCandidate.For(options.Optimizer, [rate]).Create(schedule);
        var run = PretrainingRun.Run(name, rate, options.SetupFor(budget, seed), transform, data.Training, data.Validation, Parallelism.Sequential, cancellationToken);
        return new ScheduleRun(name, seed, budget, rate, run.FinalValidationLoss, schedule, run.History, run.Elapsed);
    }

    /// <summary>One stable run; at every budget and decay fraction a decay branched from it, each model measured after exactly its budget.</summary>
    private static ScheduleRun[] WsdBranches(ScheduleComparisonOptions options, double rate, int seed, Tokens data, string directory, CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var setup = options.SetupFor(options.Budgets[^1], seed);
        var candidate = OptimizerCandidate.For(options.Optimizer, [rate]);
        var runs = new WsdRuns(() => GptModel.Create(setup.Model, setup.ModelSeed, Parallelism.Sequential), candidate.Create, setup.Training, data.Training, data.Validation);
        var stable = WarmupStableDecaySchedule.OpenEnded(rate, options.WarmupSteps, decaySteps: 1);
        Directory.CreateDirectory(directory);
        var mainCheckpoint = Path.Combine(directory, "stable.ckpt");
        var branches = (from budget in options.Budgets
                        from fraction in options.DecayFractions
                        let decaySteps = ScheduleComparisonOptions.DecayStepsOf(budget, fraction)
                        select (budget, fraction, decaySteps, start: budget - decaySteps)).OrderBy(branch => branch.start).ToArray();
        var results = new List<ScheduleRun>();
        foreach (var group in branches.GroupBy(branch => branch.start))
        {
            runs.RunMain(stable, group.Key, mainCheckpoint, cancellationToken: cancellationToken);
            foreach (var (budget, fraction, decaySteps, _) in group)
            {
                var modelPath = Path.Combine(directory, Invariant($"branch-{budget}-{decaySteps}.safetensors"));
                var branch = runs.BranchDecay(stable, mainCheckpoint, decaySteps, modelPath, cancellationToken: cancellationToken);
                results.Add(new ScheduleRun(WsdName(DecayShape.Linear, fraction), seed, budget, rate, EvaluateSaved(options, setup, candidate, modelPath, data),
                    branch.Schedule, branch.History, clock.Elapsed));
            }
        }

        return [.. results];
    }

    /// <summary>One WSD-S run through every budget; the decayed model at each budget measured.</summary>
    private static ScheduleRun[] Wsds(ScheduleComparisonOptions options, double rate, int seed, Tokens data, string directory, CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var setup = options.SetupFor(options.Budgets[^1], seed);
        var candidate = OptimizerCandidate.For(options.Optimizer, [rate]);
        var runs = new WsdRuns(() => GptModel.Create(setup.Model, setup.ModelSeed, Parallelism.Sequential), candidate.Create, setup.Training, data.Training, data.Validation);
        var plan = options.Wsds(rate);
        Directory.CreateDirectory(directory);
        var result = runs.RunWsds(plan, options.Budgets[^1], Path.Combine(directory, "wsds.ckpt"), directory, cancellationToken: cancellationToken);
        var name = WsdsName(options.MainDecayFraction);
        return options.Budgets.Select((budget, index) => new ScheduleRun(name, seed, budget, rate,
            EvaluateSaved(options, setup, candidate, result.ModelPaths[index], data), plan,
            result.History.Where(row => row.Step <= budget).ToArray(), clock.Elapsed)).ToArray();
    }

    /// <summary>The final validation loss of saved weights, measured as <see cref="PretrainingRun"/> measures its runs.</summary>
    private static double EvaluateSaved(ScheduleComparisonOptions options, PretrainingSetup setup, OptimizerCandidate candidate, string modelPath, Tokens data)
    {
        var model = GptModel.Create(setup.Model, setup.ModelSeed, Parallelism.Sequential);
        model.Parameters.LoadSafeTensors(modelPath);
        var optimizer = new GradientTransformOptimizer(candidate.Create(new ConstantSchedule(0)), model.Parameters);
        var loss = new LanguageModelTrainer(model, optimizer, setup.Training with { EvaluationBatches = setup.FinalEvaluationBatches }).Evaluate(data.Validation);
        return double.IsFinite(loss) ? loss : double.PositiveInfinity;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string ShapeName(DecayShape shape) => shape switch
    {
        DecayShape.OneMinusSqrt => "1-sqrt",
        _ => shape.ToString().ToLowerInvariant(),
    };

    private sealed record Tokens(int[] Training, int[] Validation);
}

/// <summary>One model of a <see cref="ScheduleComparisonExperiment"/>: a schedule trained for exactly one budget.</summary>
/// <param name="Schedule">The schedule's name, e.g. <c>cosine</c>, <c>WSD linear 20%</c>, <c>WSD-S 20%</c>.</param>
/// <param name="Seed">0 for tuning, 1..n for the comparison.</param>
/// <param name="Budget">Steps the model trained.</param>
/// <param name="PeakLearningRate">The schedule's peak.</param>
/// <param name="FinalValidationLoss">Loss on the final evaluation's batches after <paramref name="Budget"/> steps (+infinity if diverged).</param>
/// <param name="LearningRates">The schedule the model trained under (for a branch: the branch's own).</param>
/// <param name="History">Per-step metrics up to the budget (a branch's include the stable part it started from).</param>
/// <param name="Elapsed">Wall time of the job so far (a WSD or WSD-S job makes several models).</param>
public sealed record ScheduleRun(string Schedule, int Seed, long Budget, double PeakLearningRate, double FinalValidationLoss, ISchedule LearningRates,
    IReadOnlyList<StepMetrics> History, TimeSpan Elapsed);
