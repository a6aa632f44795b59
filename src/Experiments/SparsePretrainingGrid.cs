using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Sparsity;

namespace Pipelines.Experiments;

/// <summary>
/// A grid of small pre-training runs (model sizes x token budgets, dense and sparse) for fitting the sparse
/// scaling law <c>L(Nbar, D) = E + A / Nbar^alpha + B / D^beta</c>, and its evaluation on held-out runs
/// against plain Chinchilla in the final N.
/// </summary>
/// <remarks>
/// <para>Sparse pre-training (arXiv 2501.12486); Chinchilla's fit (Hoffmann et al., arXiv 2203.15556) through
/// <see cref="SparseScalingLaw"/>. Models are given in increasing size; for each budget the grid trains every
/// model dense and every model but the smallest sparse, pruned so that its Nbar equals the dense size of the
/// model before it. A sparse run then shares its Nbar and D with a dense run, and its final N is smaller: the
/// law in Nbar and the law in N predict different losses for it, and the held-out runs say which is right.</para>
/// </remarks>
public static class SparsePretrainingGrid
{
    /// <summary>The runs of the grid, budget-major then model, dense before sparse.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is invalid or a sparse run cannot reach its target Nbar.</exception>
    public static IReadOnlyList<SparsePretrainingRunOptions> Plan(SparsePretrainingGridOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var runs = new List<SparsePretrainingRunOptions>();
        foreach (var steps in options.StepBudgets)
        {
            var training = options.Base.Training with { Steps = steps };
            var tokens = steps * training.BatchSize * training.SequenceLength;
            for (var index = 0; index < options.Models.Count; index++)
            {
                var model = options.Models[index];
                runs.Add(options.Base with { Name = $"dense-L{model.LayerCount}-C{model.Channels}-D{tokens}", Model = model, Training = training, Pruning = null });
                if (index == 0) continue;
                var interval = Math.Max(1, (long)Math.Round(options.PruningIntervalFraction * steps));
                var target = SparsePretrainingExperiment.CountParameters(options.Models[index - 1]).Total;
                var pruning = SparsePretrainingExperiment.MatchAverageParameterCount(model, target,
                    options.SparseTemplate with { TotalSteps = steps, PruningInterval = interval });
                runs.Add(options.Base with { Name = $"sparse-L{model.LayerCount}-C{model.Channels}-D{tokens}", Model = model, Training = training, Pruning = pruning });
            }
        }

        return runs;
    }

    /// <summary>Trains the grid (up to <paramref name="concurrentRuns"/> runs at a time) and returns one row per run, in <see cref="Plan"/>'s order.</summary>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static IReadOnlyList<SparsePretrainingGridRun> Run(SparsePretrainingGridOptions options, int[] trainingTokens, int[] validationTokens, int concurrentRuns = 1,
        IProgress<SparsePretrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var plan = Plan(options);
        var results = SparsePretrainingExperiment.RunAll(plan, trainingTokens, validationTokens, concurrentRuns, progress, cancellationToken);
        return plan.Select((run, index) => ToGridRun(run, results[index].Summary)).ToArray();
    }

    /// <summary>The grid row of a finished run.</summary>
    public static SparsePretrainingGridRun ToGridRun(SparsePretrainingRunOptions run, SparsePretrainingSummary summary)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(summary);
        var counts = SparsePretrainingExperiment.CountParameters(run.Model);
        return new SparsePretrainingGridRun(summary.Run, run.Model.LayerCount, run.Model.Channels, run.IsSparse, summary.TargetFinalSparsity, summary.Steps, summary.Tokens,
            summary.ParameterCount, counts.Embedding, summary.FinalNonZeroCount, summary.AverageParameterCount, summary.FinalValidationLoss);
    }

    /// <summary>
    /// Fits the law in Nbar and in the final N on the runs <paramref name="holdOut"/> keeps for fitting, and scores
    /// both on the others (mean |L_pred - L| / L).
    /// </summary>
    /// <param name="runs">The grid's rows.</param>
    /// <param name="holdOut">Which runs are held out.</param>
    /// <param name="countEmbeddings">Count the embeddings in N and Nbar (as the pruner does), or leave them out (as Kaplan et al.).</param>
    /// <param name="fitOptions">The search; null = defaults.</param>
    /// <param name="parallelism">Threads over the fit's starting points; the result does not depend on it.</param>
    /// <exception cref="ArgumentException">Fewer than five runs to fit, or none held out.</exception>
    public static ScalingLawComparison Evaluate(IReadOnlyList<SparsePretrainingGridRun> runs, ScalingHoldOut holdOut, bool countEmbeddings = true,
        ScalingLawFitOptions? fitOptions = null, Parallelism? parallelism = null)
    {
        ArgumentNullException.ThrowIfNull(runs);
        if (!Enum.IsDefined(holdOut)) throw new ArgumentOutOfRangeException(nameof(holdOut), holdOut, "Unknown hold-out rule.");
        var largestBudget = runs.Count == 0 ? 0 : runs.Max(run => run.Tokens);
        bool IsHeldOut(SparsePretrainingGridRun run) => holdOut == ScalingHoldOut.SparseRuns ? run.IsSparse : run.Tokens == largestBudget;
        var fitted = runs.Where(run => !IsHeldOut(run)).ToArray();
        var heldOut = runs.Where(IsHeldOut).ToArray();
        if (heldOut.Length == 0) throw new ArgumentException($"The rule {holdOut} holds out none of the {runs.Count} runs.", nameof(runs));
        if (fitted.Length < 5) throw new ArgumentException($"The rule {holdOut} leaves {fitted.Length} runs to fit; the law needs at least 5.", nameof(runs));

        ScalingCountEvaluation Score(ScalingParameterCount count)
        {
            var evaluation = SparseScalingLaw.EvaluateHeldOut(fitted.Select(run => run.ToScalingRun(countEmbeddings)).ToArray(),
                heldOut.Select(run => run.ToScalingRun(countEmbeddings)).ToArray(), count, fitOptions, parallelism);
            var predictions = heldOut.Select((run, index) => new ScalingPrediction(run.Run, run.FinalValidationLoss, evaluation.Predictions[index])).ToArray();
            return new ScalingCountEvaluation(count, evaluation.Fit, evaluation.Fit.MeanAbsoluteRelativeError, evaluation.MeanAbsoluteRelativeError, predictions);
        }

        return new ScalingLawComparison(holdOut, countEmbeddings, fitted.Length, heldOut.Length, Score(ScalingParameterCount.Average), Score(ScalingParameterCount.Final));
    }
}

/// <summary>The grid of <see cref="SparsePretrainingGrid"/>.</summary>
/// <remarks>Validated once, by <see cref="Validate"/>.</remarks>
public sealed record SparsePretrainingGridOptions
{
    /// <summary>GPT shapes in strictly increasing size; the sparse run of model i matches the dense size of model i - 1.</summary>
    public required IReadOnlyList<TransformerConfig> Models { get; init; }

    /// <summary>Updates per run, one set of runs per budget (D = steps x batch x sequence length).</summary>
    public required IReadOnlyList<long> StepBudgets { get; init; }

    /// <summary>Everything else of a run (optimizer, batch shape, evaluation, seeds, threads); name, model, steps and pruning are set per run.</summary>
    public required SparsePretrainingRunOptions Base { get; init; }

    /// <summary>The sparse runs' schedule (default the paper's cubic 25%-75%, per layer); final sparsity, steps and interval are set per run.</summary>
    public PruningOptions SparseTemplate { get; init; } = new() { TotalSteps = 1 };

    /// <summary>dt as a fraction of the run's steps (default 0.02: 25 pruning steps in a 25%-75% ramp), at least one step.</summary>
    public double PruningIntervalFraction { get; init; } = 0.02;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> (or <see cref="ArgumentNullException"/>) naming the first invalid option.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Models, nameof(Models));
        ArgumentNullException.ThrowIfNull(StepBudgets, nameof(StepBudgets));
        ArgumentNullException.ThrowIfNull(Base, nameof(Base));
        ArgumentNullException.ThrowIfNull(SparseTemplate, nameof(SparseTemplate));
        if (Models.Count < 2) throw new ArgumentOutOfRangeException(nameof(Models), Models.Count, "Needs at least two model sizes (a sparse run matches the size before it).");
        long previous = 0;
        foreach (var model in Models)
        {
            var size = SparsePretrainingExperiment.CountParameters(model ?? throw new ArgumentOutOfRangeException(nameof(Models), null, "A model is null.")).Total;
            if (size <= previous) throw new ArgumentOutOfRangeException(nameof(Models), size, "Models must be given in strictly increasing parameter count.");
            previous = size;
        }

        if (StepBudgets.Count < 1) throw new ArgumentOutOfRangeException(nameof(StepBudgets), StepBudgets.Count, "Needs at least one budget.");
        if (StepBudgets.Any(steps => steps < 1)) throw new ArgumentOutOfRangeException(nameof(StepBudgets), StepBudgets.Min(), "Every budget needs at least one step.");
        if (StepBudgets.Distinct().Count() != StepBudgets.Count) throw new ArgumentOutOfRangeException(nameof(StepBudgets), StepBudgets.Count, "Budgets must differ.");
        if (!(PruningIntervalFraction > 0 && PruningIntervalFraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(PruningIntervalFraction), PruningIntervalFraction, "Must lie in (0, 1].");
    }
}

/// <summary>Which grid runs a scaling-law fit is judged on.</summary>
public enum ScalingHoldOut
{
    /// <summary>Fit on the dense runs, predict the sparse ones: does a law of dense models carry over to sparse ones through Nbar?</summary>
    SparseRuns,

    /// <summary>Fit on the smaller token budgets (dense and sparse), predict every run of the largest: extrapolation in D.</summary>
    LargestBudget,
}

/// <summary>One run of the grid (a CSV row).</summary>
/// <param name="Run">The run's name.</param>
/// <param name="Layers">Transformer blocks.</param>
/// <param name="Channels">Model width.</param>
/// <param name="IsSparse">Whether it pruned.</param>
/// <param name="FinalSparsity">s_f of the prunable part (0 when dense).</param>
/// <param name="Steps">Updates.</param>
/// <param name="Tokens">D.</param>
/// <param name="ParameterCount">All parameters of the model.</param>
/// <param name="EmbeddingCount">Of which token and position embeddings.</param>
/// <param name="FinalNonZeroCount">N at the end.</param>
/// <param name="AverageParameterCount">Nbar.</param>
/// <param name="FinalValidationLoss">The final validation loss.</param>
public sealed record SparsePretrainingGridRun(string Run, int Layers, int Channels, bool IsSparse, double FinalSparsity, long Steps, long Tokens,
    long ParameterCount, long EmbeddingCount, long FinalNonZeroCount, double AverageParameterCount, double FinalValidationLoss)
{
    /// <summary>The run as a <see cref="ScalingRun"/>, its counts with or without the embeddings.</summary>
    public ScalingRun ToScalingRun(bool countEmbeddings = true)
    {
        var offset = countEmbeddings ? 0 : EmbeddingCount;
        return new ScalingRun(FinalNonZeroCount - offset, AverageParameterCount - offset, Tokens, FinalValidationLoss);
    }
}

/// <summary>A held-out run's loss and a law's prediction of it.</summary>
/// <param name="Run">The run's name.</param>
/// <param name="Actual">Its final validation loss.</param>
/// <param name="Predicted">The law's prediction.</param>
public sealed record ScalingPrediction(string Run, double Actual, double Predicted);

/// <summary>A law fitted in one parameter count, and how well it does on its runs and on the held-out ones.</summary>
/// <param name="Count">Nbar (<see cref="ScalingParameterCount.Average"/>) or the final N.</param>
/// <param name="Fit">The fitted law.</param>
/// <param name="FitError">Mean |L_pred - L| / L over the fitted runs.</param>
/// <param name="HeldOutError">Mean |L_pred - L| / L over the held-out runs.</param>
/// <param name="Predictions">The held-out runs' predictions.</param>
public sealed record ScalingCountEvaluation(ScalingParameterCount Count, ScalingLawFit Fit, double FitError, double HeldOutError, IReadOnlyList<ScalingPrediction> Predictions);

/// <summary>The law in Nbar against the law in N on the same split of a grid.</summary>
/// <param name="HoldOut">The split.</param>
/// <param name="CountEmbeddings">Whether the counts include the embeddings.</param>
/// <param name="FittedRuns">Runs fitted.</param>
/// <param name="HeldOutRuns">Runs held out.</param>
/// <param name="Average">The sparse law, in Nbar.</param>
/// <param name="Final">Plain Chinchilla, in the final N.</param>
public sealed record ScalingLawComparison(ScalingHoldOut HoldOut, bool CountEmbeddings, int FittedRuns, int HeldOutRuns, ScalingCountEvaluation Average, ScalingCountEvaluation Final);
