using System.Diagnostics;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Training;

namespace Pipelines.Experiments;

/// <summary>What every run of a pre-training experiment shares: the model's shape and seed, and how it is trained.</summary>
/// <remarks>
/// Every run starts from the same initial weights (<see cref="ModelSeed"/>) and draws the same batches
/// (<see cref="LanguageModelTrainingOptions.Seed"/>), so runs see equal tokens and differ only in what the
/// experiment varies. The training options' checkpoint settings are ignored: experiment runs keep no checkpoints.
/// </remarks>
public sealed record PretrainingSetup
{
    /// <summary>Creates a setup.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The training options do not fit the model (see <see cref="LanguageModelTrainingOptions.Validate"/>), or no steps.</exception>
    public PretrainingSetup(TransformerConfig model, LanguageModelTrainingOptions training)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(training);
        training.Validate(model.ContextLength);
        if (training.Steps < 1) throw new ArgumentOutOfRangeException(nameof(training), training.Steps, "An experiment run needs at least one step.");
        Model = model;
        Training = training with { CheckpointInterval = 0, CheckpointPath = null };
    }

    /// <summary>The model's shape.</summary>
    public TransformerConfig Model { get; }

    /// <summary>Batch shape, steps (the run's length), evaluation interval and batches, sampler seed.</summary>
    public LanguageModelTrainingOptions Training { get; }

    /// <summary>The seed of the initial weights (default 1).</summary>
    public ulong ModelSeed { get; init; } = 1;

    /// <summary>Validation batches of the final evaluation, usually more than the periodic ones for a steadier figure (default 32).</summary>
    public int FinalEvaluationBatches { get; init => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(FinalEvaluationBatches), value, "At least one batch."); } = 32;

    /// <summary>Tokens each run trains on: steps x batch x sequence length.</summary>
    public long TokensPerRun => Training.Steps * Training.BatchSize * Training.SequenceLength;
}

/// <summary>One finished (or diverged) run of a pre-training experiment.</summary>
/// <param name="Name">The optimizer's or schedule's name.</param>
/// <param name="PeakLearningRate">The peak rate of the run's schedule.</param>
/// <param name="History">Per-step metrics (empty if the run diverged).</param>
/// <param name="FinalValidationLoss">Mean loss over <see cref="PretrainingSetup.FinalEvaluationBatches"/> validation batches after the last step; +infinity if the run diverged.</param>
/// <param name="DivergedAtStep">The step at which the loss or gradients went non-finite, or null.</param>
/// <param name="Elapsed">Wall time of the run.</param>
public sealed record PretrainingRunResult(string Name, double PeakLearningRate, IReadOnlyList<StepMetrics> History, double FinalValidationLoss,
    long? DivergedAtStep, TimeSpan Elapsed)
{
    /// <summary>Whether the run ended with a non-finite loss or gradient.</summary>
    public bool Diverged => DivergedAtStep is not null;
}

/// <summary>Trains one fresh GPT for an experiment and measures it.</summary>
public static class PretrainingRun
{
    /// <summary>
    /// Trains a model initialised from <see cref="PretrainingSetup.ModelSeed"/> with <paramref name="transform"/> for the
    /// setup's steps, then evaluates it on <see cref="PretrainingSetup.FinalEvaluationBatches"/> validation batches.
    /// A run that diverges is returned with <see cref="PretrainingRunResult.DivergedAtStep"/> set, not thrown.
    /// </summary>
    /// <param name="name">The run's name in the result.</param>
    /// <param name="peakLearningRate">Recorded in the result (the transform carries the schedule).</param>
    /// <param name="setup">Model, seeds and training options.</param>
    /// <param name="transform">The optimizer.</param>
    /// <param name="trainingTokens">The training stream.</param>
    /// <param name="validationTokens">The validation stream.</param>
    /// <param name="parallelism">Threads of the model's kernels.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    /// <exception cref="ArgumentOutOfRangeException">A token outside the model's vocabulary.</exception>
    public static PretrainingRunResult Run(string name, double peakLearningRate, PretrainingSetup setup, IGradientTransform transform,
        int[] trainingTokens, int[] validationTokens, Parallelism parallelism, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(setup);
        ArgumentNullException.ThrowIfNull(transform);
        ArgumentNullException.ThrowIfNull(trainingTokens);
        ArgumentNullException.ThrowIfNull(validationTokens);
        var clock = Stopwatch.StartNew();
        var model = GptModel.Create(setup.Model, setup.ModelSeed, parallelism);
        var optimizer = new GradientTransformOptimizer(transform, model.Parameters, model.Parallelism);
        try
        {
            var result = new LanguageModelTrainer(model, optimizer, setup.Training).Train(trainingTokens, validationTokens, cancellationToken: cancellationToken);
            var final = new LanguageModelTrainer(model, optimizer, setup.Training with { EvaluationBatches = setup.FinalEvaluationBatches }).Evaluate(validationTokens);
            return new PretrainingRunResult(name, peakLearningRate, result.History, double.IsFinite(final) ? final : double.PositiveInfinity,
                double.IsFinite(final) ? null : result.Steps, clock.Elapsed);
        }
        catch (TrainingDivergedException diverged)
        {
            return new PretrainingRunResult(name, peakLearningRate, [], double.PositiveInfinity, diverged.Step, clock.Elapsed);
        }
    }

    /// <summary>Runs <paramref name="count"/> independent runs over threads, each model single-threaded; results in index order.</summary>
    /// <remarks>Each run depends only on its own inputs, so the results do not depend on <paramref name="runParallelism"/>.</remarks>
    internal static PretrainingRunResult[] RunAll(int count, Func<int, PretrainingRunResult> run, Parallelism runParallelism,
        IProgress<PretrainingRunResult>? progress, CancellationToken cancellationToken)
    {
        var results = new PretrainingRunResult[count];
        runParallelism.For(count, (start, end) =>
        {
            for (var index = start; index < end; index++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                results[index] = run(index);
                progress?.Report(results[index]);
            }
        });
        return results;
    }

    /// <summary>The validation points of a run's history, as (steps done, loss).</summary>
    internal static (long[] Steps, double[] Losses) ValidationCurve(IReadOnlyList<StepMetrics> history)
    {
        var points = history.Where(row => row.ValidationLoss is { } loss && double.IsFinite(loss)).ToArray();
        return (points.Select(row => row.Step).ToArray(), points.Select(row => row.ValidationLoss!.Value).ToArray());
    }
}
