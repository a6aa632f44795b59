using System.Diagnostics;
using System.Globalization;
using System.Runtime.ExceptionServices;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Schedules;
using Pipelines.Components.Sparsity;
using Pipelines.Components.Training;

namespace Pipelines.Experiments;

/// <summary>
/// Dense and sparse pre-training runs of a GPT on a token stream, and the comparison sparse pre-training makes:
/// a bigger model pruned to the dense model's average parameter count, trained on the same tokens.
/// </summary>
/// <remarks>
/// <para>Sparse pre-training (arXiv 2501.12486): prune the linear weights gradually (cubic ramp of Zhu &amp; Gupta,
/// arXiv 1710.01878, from 25% to 75% of the run) and compare models by <c>Nbar = (1/T) sum_t N(t)</c>. Its claim:
/// a sparse and a dense model of equal Nbar and tokens reach about the same loss, the sparse one ending smaller.
/// <see cref="MatchedComparison"/> sets that up with <see cref="SparsityBudget"/>; <see cref="SparsePretrainingGrid"/>
/// fits <c>L(Nbar, D)</c> across sizes and token budgets.</para>
/// <para>Every run trains with <see cref="LanguageModelTrainer"/> (and a <see cref="PruningTrainingHook"/> when
/// sparse) on batches drawn from the same seed, so runs with equal batch options see the same tokens. A run
/// depends only on its options and thread count. Example: <c>samples/SparsePretraining</c>.</para>
/// </remarks>
public static class SparsePretrainingExperiment
{
    /// <summary>The fraction of the last steps whose mean training loss is reported as the final training loss.</summary>
    private const double FinalTrainingLossFraction = 0.05;

    /// <summary>N, P (linear weights) and the embeddings' share of a GPT of shape <paramref name="model"/>.</summary>
    public static ModelParameterCounts CountParameters(TransformerConfig model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var arena = new GptModel(model, Parallelism.Sequential).Parameters;
        var mask = new PruningMask(arena);
        var embedding = arena.Parameters.Where(slice => slice.Role is Pipelines.Components.Tensors.ParameterRole.TokenEmbedding or Pipelines.Components.Tensors.ParameterRole.PositionEmbedding)
            .Sum(slice => (long)slice.Length);
        return new ModelParameterCounts(arena.ParameterCount, mask.PrunableCount, embedding);
    }

    /// <summary>
    /// <paramref name="template"/> with the final sparsity at which a GPT of shape <paramref name="model"/> pruned on
    /// that schedule has Nbar = <paramref name="targetAverageCount"/> (for example a smaller dense model's size).
    /// </summary>
    /// <remarks>Solved exactly for the staircase the template describes (<see cref="SparsityBudget.RequiredFinalSparsity"/>).</remarks>
    /// <exception cref="ArgumentOutOfRangeException">The target needs a final sparsity outside [s_i, 1) on this schedule, or an option is invalid.</exception>
    public static PruningOptions MatchAverageParameterCount(TransformerConfig model, double targetAverageCount, PruningOptions template)
    {
        ArgumentNullException.ThrowIfNull(template);
        var counts = CountParameters(model);
        var finalSparsity = SparsityBudget.RequiredFinalSparsity(counts.Prunable, counts.Fixed, targetAverageCount, template);
        return template with { FinalSparsity = finalSparsity };
    }

    /// <summary>
    /// The dense run and, per plan, a run of <paramref name="sparseModel"/> pruned to the dense model's Nbar on that
    /// plan's schedule; all with <paramref name="dense"/>'s training options.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A plan cannot reach the dense size (the sparse model is too big or too small for its schedule).</exception>
    /// <exception cref="ArgumentException">Two runs share a name.</exception>
    public static IReadOnlyList<SparsePretrainingRunOptions> MatchedComparison(SparsePretrainingRunOptions dense, TransformerConfig sparseModel, IReadOnlyList<NamedPruningPlan> plans)
    {
        ArgumentNullException.ThrowIfNull(dense);
        ArgumentNullException.ThrowIfNull(sparseModel);
        ArgumentNullException.ThrowIfNull(plans);
        var denseRun = dense with { Pruning = null };
        denseRun.Validate();
        var target = CountParameters(dense.Model).Total;
        var runs = new List<SparsePretrainingRunOptions> { denseRun };
        foreach (var plan in plans)
        {
            ArgumentNullException.ThrowIfNull(plan, nameof(plans));
            var pruning = MatchAverageParameterCount(sparseModel, target, plan.Template with { TotalSteps = dense.Training.Steps });
            runs.Add(dense with { Name = plan.Name, Model = sparseModel, Pruning = pruning });
        }

        var duplicate = runs.GroupBy(run => run.Name, StringComparer.Ordinal).FirstOrDefault(group => group.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"Two runs are named '{duplicate.Key}'.", nameof(plans));
        foreach (var run in runs) run.Validate();
        return runs;
    }

    /// <summary>
    /// The schedules the comparison uses, all cubic with interval <paramref name="pruningInterval"/>: the paper's
    /// 25%-75% ("sparse-25-75"), pruning early, 0%-50% ("early-0-50"), and pruning late, 50%-100% ("late-50-100").
    /// </summary>
    public static IReadOnlyList<NamedPruningPlan> StandardSchedules(long totalSteps, long pruningInterval) =>
    [
        new("sparse-25-75", new PruningOptions { TotalSteps = totalSteps, PruningInterval = pruningInterval, StartFraction = 0.25, EndFraction = 0.75 }),
        new("early-0-50", new PruningOptions { TotalSteps = totalSteps, PruningInterval = pruningInterval, StartFraction = 0.0, EndFraction = 0.5 }),
        new("late-50-100", new PruningOptions { TotalSteps = totalSteps, PruningInterval = pruningInterval, StartFraction = 0.5, EndFraction = 1.0 }),
    ];

    /// <summary>A label for a run's schedule: "dense", "Cubic 25%-75%", "OneShot at 25%".</summary>
    public static string DescribeSchedule(PruningOptions? pruning)
    {
        if (pruning is null) return "dense";
        string Percent(double fraction) => (fraction * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%";
        return pruning.Schedule == SparsityScheduleKind.OneShot
            ? $"OneShot at {Percent(pruning.StartFraction)}"
            : $"{pruning.Schedule} {Percent(pruning.StartFraction)}-{Percent(pruning.EndFraction)}";
    }

    /// <summary>Trains one run and measures it.</summary>
    /// <param name="options">The run (validated here).</param>
    /// <param name="trainingTokens">The training stream.</param>
    /// <param name="validationTokens">The validation stream (evaluated periodically and at the end).</param>
    /// <param name="progress">Told after every step (on the training thread).</param>
    /// <param name="cancellationToken">Checked before every step.</param>
    /// <exception cref="TrainingDivergedException">The loss or the gradients became non-finite.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static SparsePretrainingResult Run(SparsePretrainingRunOptions options, int[] trainingTokens, int[] validationTokens,
        IProgress<SparsePretrainingProgress>? progress = null, CancellationToken cancellationToken = default) =>
        RunOne(options, trainingTokens, validationTokens, 0, 1, progress, cancellationToken);

    /// <summary>Trains several runs, up to <paramref name="concurrentRuns"/> at a time (each with its own thread count); results in input order.</summary>
    /// <remarks>Runs are independent, so their results do not depend on <paramref name="concurrentRuns"/>.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="concurrentRuns"/> is below 1.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static IReadOnlyList<SparsePretrainingResult> RunAll(IReadOnlyList<SparsePretrainingRunOptions> runs, int[] trainingTokens, int[] validationTokens,
        int concurrentRuns = 1, IProgress<SparsePretrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runs);
        if (concurrentRuns < 1) throw new ArgumentOutOfRangeException(nameof(concurrentRuns), concurrentRuns, "Must be at least 1.");
        foreach (var run in runs) (run ?? throw new ArgumentException("A run is null.", nameof(runs))).Validate();
        var results = new SparsePretrainingResult[runs.Count];
        try
        {
            Parallel.For(0, runs.Count, new ParallelOptions { MaxDegreeOfParallelism = concurrentRuns, CancellationToken = cancellationToken },
                index => results[index] = RunOne(runs[index], trainingTokens, validationTokens, index, runs.Count, progress, cancellationToken));
        }
        catch (AggregateException error) when (error.InnerExceptions.Count >= 1)
        {
            var first = error.InnerExceptions.FirstOrDefault(inner => inner is not OperationCanceledException) ?? error.InnerExceptions[0];
            ExceptionDispatchInfo.Capture(first).Throw();
        }

        return results;
    }

    private static SparsePretrainingResult RunOne(SparsePretrainingRunOptions options, int[] trainingTokens, int[] validationTokens, int runIndex, int runCount,
        IProgress<SparsePretrainingProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(trainingTokens);
        ArgumentNullException.ThrowIfNull(validationTokens);
        options.Validate();
        var clock = Stopwatch.StartNew();
        var model = GptModel.Create(options.Model, options.InitializationSeed, new Parallelism(options.ThreadCount));
        var hook = options.Pruning is null ? null : new PruningTrainingHook(model.Parameters, options.Pruning);
        var steps = options.Training.Steps;
        var learningRate = new CosineSchedule(options.PeakLearningRate, steps, (long)(options.WarmupFraction * steps), options.MinimumLearningRateRatio);
        IGradientTransform transform = Optimizers.AdamW(new AdamWOptions(learningRate)
        {
            Beta2 = options.Beta2, WeightDecay = options.WeightDecay, ClipNorm = options.ClipNorm,
        });
        if (hook is not null) transform = new Chain(transform, hook.ApplyMask);
        var optimizer = new GradientTransformOptimizer(transform, model.Parameters, model.Parallelism);
        var trainer = new LanguageModelTrainer(model, optimizer, options.Training, hook is null ? [] : [hook]);
        var total = model.Parameters.ParameterCount;
        var reporter = progress is null ? null : new ProgressAdapter(report => progress.Report(new SparsePretrainingProgress(
            options.Name, runIndex, runCount, report.Step, report.TotalSteps, report.Loss, report.ValidationLoss,
            hook?.NonZeroCount ?? total, hook?.OverallSparsity ?? 0, hook?.AverageParameterCount() ?? total, report.TokensPerSecond, report.Elapsed)));
        var training = trainer.Train(trainingTokens, validationTokens, reporter, cancellationToken: cancellationToken);

        var finalEvaluation = new LanguageModelTrainer(model, optimizer, options.Training with { EvaluationBatches = options.FinalEvaluationBatches, CheckpointInterval = 0 });
        var finalValidationLoss = finalEvaluation.Evaluate(validationTokens);
        var tokensPerStep = (long)options.Training.BatchSize * options.Training.SequenceLength;
        var curve = Curve(options.Name, training.History, hook, total, tokensPerStep);
        var layers = (hook?.LayerSparsities() ?? new PruningMask(model.Parameters).Report())
            .Select(layer => new SparsePretrainingLayer(options.Name, layer.Name, layer.IsPrunable && hook is not null, layer.ParameterCount, layer.NonZeroCount, layer.Sparsity))
            .ToArray();
        var tailLength = Math.Max(1, (int)Math.Ceiling(FinalTrainingLossFraction * training.History.Count));
        var counts = CountParameters(options.Model);
        var averageOverTokens = hook is null ? total : hook.Pruner.AverageParameterCountOverTokens(Enumerable.Repeat(tokensPerStep, (int)hook.CompletedSteps).ToArray());
        var summary = new SparsePretrainingSummary(options.Name, DescribeSchedule(options.Pruning), options.Model.LayerCount, options.Model.Channels,
            total, counts.Prunable, options.Pruning?.FinalSparsity ?? 0, hook?.PrunableSparsity ?? 0, hook?.NonZeroCount ?? total,
            hook?.AverageParameterCount() ?? total, averageOverTokens, training.Steps, training.Steps * tokensPerStep, finalValidationLoss,
            training.History.TakeLast(tailLength).Average(record => record.TrainingLoss), clock.Elapsed.TotalSeconds);
        return new SparsePretrainingResult(summary, curve, layers, hook?.Pruner.Events.ToArray() ?? [], hook?.LayerSnapshots.ToArray() ?? [], hook?.Mask.Clone());
    }

    private static SparsePretrainingStep[] Curve(string name, IReadOnlyList<StepMetrics> history, PruningTrainingHook? hook, long total, long tokensPerStep)
    {
        var curve = new SparsePretrainingStep[history.Count];
        double sum = 0;
        for (var index = 0; index < history.Count; index++)
        {
            var record = history[index];
            var nonZero = hook?.Pruner.NonZeroCounts[(int)(record.Step - 1)] ?? total;
            sum += nonZero;
            curve[index] = new SparsePretrainingStep(name, record.Step, record.Step * tokensPerStep, record.TrainingLoss, record.ValidationLoss, record.LearningRate,
                nonZero, 1 - (double)nonZero / total, hook?.PrunableSparsityDuring(record.Step) ?? 0, sum / (index + 1));
        }

        return curve;
    }

    /// <summary>Forwards the trainer's reports synchronously (Progress&lt;T&gt; would post them to the thread pool, after the hook moved on).</summary>
    private sealed class ProgressAdapter(Action<TrainingProgress> handler) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => handler(value);
    }
}
