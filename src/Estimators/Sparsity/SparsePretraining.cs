using Microsoft.ML;
using Microsoft.ML.Runtime;
using Pipelines.Components.Backends;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Sparsity;
using Pipelines.Components.Training;
using Pipelines.MachineLearning;
using Pipelines.Pretraining;

namespace Pipelines.Sparsity;

/// <summary>
/// Pre-trains a GPT as <see cref="CausalLanguageModelEstimator"/> does while pruning its linear weights gradually
/// (<c>mlContext.Sparsity().SparsePretraining()</c>); the result carries its masks.
/// </summary>
/// <remarks>
/// <para>Sparse pre-training (arXiv 2501.12486) with the cubic ramp of Zhu &amp; Gupta (arXiv 1710.01878): a
/// <see cref="PruningTrainingHook"/> in the training loop of <see cref="SparsePretrainingOptions.Backend"/> (the managed
/// engine's <see cref="LanguageModelTrainer"/>, or TorchSharp's mask tensors on the device) masks gradients, weights and optimizer state
/// so a pruned weight stays exactly zero, and records N(t) at every step, hence Nbar. The data, the vocabulary, the
/// end-of-text id, the optimizer and the schedule are resolved exactly as for pre-training
/// (<see cref="CausalLanguageModelOptions"/>); the optimizer's chain ends with the mask. Checkpoints hold the
/// pruner's state, so a resumed run ends bit-identical to one never interrupted. Example: <c>samples/SparsePretraining</c>.</para>
/// </remarks>
public sealed class SparsePretrainingEstimator : IEstimator<SparsePretrainingTransformer>
{
    private readonly CausalLanguageModelEstimator dense;

    /// <summary>Creates the estimator; the options are checked here once and the seed is drawn now unless given.</summary>
    /// <param name="environment">The <see cref="MLContext"/> (or another ML.NET host environment).</param>
    /// <param name="options">The pre-training run and the pruning plan.</param>
    /// <exception cref="ArgumentOutOfRangeException">Two options conflict (the message names them).</exception>
    /// <exception cref="ArgumentException"><see cref="SparsePretrainingOptions.Backend"/> and the pre-training options' backend are different objects.</exception>
    public SparsePretrainingEstimator(IHostEnvironment environment, SparsePretrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        dense = new CausalLanguageModelEstimator(environment, options.Pretraining with { Backend = options.ResolveBackend() });
    }

    /// <summary>The options.</summary>
    public SparsePretrainingOptions Options { get; }

    /// <summary>
    /// Pre-trains and prunes on <paramref name="input"/>, with the validation set, cancellation and checkpoints of
    /// <see cref="SparsePretrainingOptions.Pretraining"/> and the progress of both option records.
    /// </summary>
    /// <exception cref="SchemaMismatchException">The token column is missing or not a vector of keys.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="SparsePretrainingOptions.TargetAverageParameterCount"/> cannot be reached.</exception>
    /// <exception cref="ArgumentException">No end-of-text id is known, or the data is shorter than one sequence.</exception>
    /// <exception cref="TrainingDivergedException">The loss or the gradients became non-finite (the step is named).</exception>
    /// <exception cref="OperationCanceledException">The cancellation token of the pre-training options was cancelled.</exception>
    /// <exception cref="InvalidDataException">The checkpoint to resume from does not fit this model, optimizer and pruner.</exception>
    public SparsePretrainingTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        PruningTrainingHook? hook = null;
        var reporter = new SparsityProgress(() => hook!, Options.Pretraining.Progress, Options.Progress);
        var languageModel = dense.Fit(input, dense.Seed, reporter, (model, parameters, steps, optimizer) =>
        {
            var prunable = new PruningMask(parameters).PrunableCount;
            hook = new PruningTrainingHook(parameters, Options.ResolvePruning(steps, prunable, parameters.ParameterCount - prunable));
            // Another backend runs the hook's device part, which masks the values after every update: what ApplyMask guarantees.
            return (model is ManagedLanguageModel ? new Chain(optimizer, hook.ApplyMask) : optimizer, [hook]);
        });

        var training = languageModel.Training;
        var record = new SparsityRecord(hook!.Pruner.Schedule.FinalSparsity, DescribeSchedule(Options), hook.Mask.ParameterCount, hook.Mask.PrunableCount, hook.NonZeroCount,
            hook.AverageParameterCount(), training.Steps * training.BatchSize * (long)training.SequenceLength);
        return new SparsePretrainingTransformer(languageModel, hook.Mask.Clone(), record, hook.Pruner.NonZeroCounts.ToArray(), hook.Pruner.Events.ToArray());
    }

    /// <inheritdoc/>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => dense.GetOutputSchema(inputSchema);

    /// <summary>"Cubic 25%-75%", "OneShot at 25%".</summary>
    internal static string DescribeSchedule(SparsePretrainingOptions options)
    {
        static string Percent(double fraction) => (fraction * 100).ToString("0.#", System.Globalization.CultureInfo.InvariantCulture) + "%";
        return options.Schedule == SparsityScheduleKind.OneShot
            ? $"OneShot at {Percent(options.StartFraction)}"
            : $"{options.Schedule} {Percent(options.StartFraction)}-{Percent(options.EndFraction)}";
    }

    /// <summary>Passes the trainer's reports on, and adds the hook's sparsity and Nbar (synchronously, while the hook is at that step).</summary>
    private sealed class SparsityProgress(Func<PruningTrainingHook> hook, IProgress<TrainingProgress>? training, IProgress<SparseTrainingProgress>? sparse) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            training?.Report(value);
            if (sparse is null) return;
            var current = hook();
            sparse.Report(new SparseTrainingProgress(value, current.NonZeroCount, current.OverallSparsity, current.PrunableSparsity, current.AverageParameterCount()));
        }
    }
}

/// <summary>
/// A GPT pre-trained with gradual pruning: scores and generates as its <see cref="LanguageModel"/> does, and carries
/// its mask, its per-layer sparsity, N(t) of every step and Nbar.
/// </summary>
/// <remarks>
/// Every pruned weight of <see cref="LanguageModel"/> is exactly zero. Saved into ML.NET model files with the
/// language model's description and history, and one safetensors entry with every weight under its PyTorch name and
/// every prunable parameter's mask beside it as <c>mask.&lt;name&gt;</c> (F32, 0 pruned, 1 kept). Immutable and
/// thread-safe, as <see cref="CausalLanguageModelTransformer"/>; <c>MLContext.Model.Load</c> brings it back as this type.
/// </remarks>
[MachineLearningModelLoader(LoaderSignature)]
public sealed partial class SparsePretrainingTransformer : RowMappingTransformer
{
    private readonly PruningMask mask;

    internal SparsePretrainingTransformer(CausalLanguageModelTransformer languageModel, PruningMask mask, SparsityRecord sparsity,
        IReadOnlyList<long> nonZeroCounts, IReadOnlyList<PruningEvent> events)
    {
        LanguageModel = languageModel;
        this.mask = mask;
        Sparsity = sparsity;
        NonZeroCounts = [.. nonZeroCounts];
        Events = [.. events];
        Layers = mask.Report();
    }

    /// <summary>The trained (sparse) model: scoring, evaluation, generation, weights.</summary>
    public CausalLanguageModelTransformer LanguageModel { get; }

    /// <summary>The run's sparsity figures: final sparsity, final non-zero count, Nbar.</summary>
    public SparsityRecord Sparsity { get; }

    /// <summary>Per-parameter sparsity at the end, in arena order (embeddings, norms and biases at 0).</summary>
    public IReadOnlyList<LayerSparsity> Layers { get; }

    /// <summary>Entry t - 1: unpruned parameters in force during update t.</summary>
    public IReadOnlyList<long> NonZeroCounts { get; }

    /// <summary>Every pruning step of the run, in order.</summary>
    public IReadOnlyList<PruningEvent> Events { get; }

    /// <summary>The masks as <c>mask.&lt;name&gt;</c> tensors of 0s and 1s, one per prunable parameter (copies).</summary>
    public IReadOnlyDictionary<string, float[]> MaskTensors() => mask.ToTensors();

    /// <summary>Whether entry <paramref name="index"/> of parameter <paramref name="parameterName"/> is kept.</summary>
    /// <exception cref="ArgumentException">No parameter has that name.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> lies outside the parameter.</exception>
    public bool IsKept(string parameterName, int index)
    {
        var layer = Layers.FirstOrDefault(candidate => candidate.Name == parameterName)
            ?? throw new ArgumentException($"The model has no parameter '{parameterName}'.", nameof(parameterName));
        if ((ulong)index >= (ulong)layer.ParameterCount) throw new ArgumentOutOfRangeException(nameof(index), index, $"'{parameterName}' has {layer.ParameterCount} entries.");
        var slice = mask.PrunableSlices.FirstOrDefault(candidate => candidate.Name == parameterName);
        return slice is null || mask.MaskOf(slice)[index] != 0f;
    }

    /// <summary>A table of every prunable parameter's final sparsity, then the totals and Nbar.</summary>
    public string FormatReport()
    {
        var lines = new List<string> { $"{"parameter",-28} {"entries",10} {"kept",10} {"sparsity",9}" };
        foreach (var layer in Layers.Where(layer => layer.IsPrunable))
            lines.Add($"{layer.Name,-28} {layer.ParameterCount,10:N0} {layer.NonZeroCount,10:N0} {layer.Sparsity,9:P2}");
        lines.Add($"{"all parameters",-28} {Sparsity.ParameterCount,10:N0} {Sparsity.FinalNonZeroCount,10:N0} {Sparsity.OverallSparsity,9:P2}");
        lines.Add($"Nbar {Sparsity.AverageParameterCount:N0} over {NonZeroCounts.Count} steps ({Sparsity.Schedule}, s_f {Sparsity.TargetFinalSparsity:P2})");
        return string.Join(Environment.NewLine, lines);
    }

    /// <summary>Continues a prompt; see <see cref="CausalLanguageModelTransformer.Generate"/>.</summary>
    public int[] Generate(ReadOnlySpan<int> promptTokens, int count, GenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        LanguageModel.Generate(promptTokens, count, options, cancellationToken);

    private protected override IRowMapper CreateMapper(DataViewSchema inputSchema) => LanguageModel.CreateScoringMapper(inputSchema);
}

/// <summary>One progress report of sparse pre-training.</summary>
/// <param name="Training">The trainer's report (step, loss, learning rate, throughput, validation loss).</param>
/// <param name="NonZeroCount">Unpruned parameters now.</param>
/// <param name="OverallSparsity">Pruned fraction of all parameters now.</param>
/// <param name="PrunableSparsity">Pruned fraction of the linear weights now.</param>
/// <param name="AverageParameterCount">Nbar so far.</param>
public sealed record SparseTrainingProgress(TrainingProgress Training, long NonZeroCount, double OverallSparsity, double PrunableSparsity, double AverageParameterCount);

/// <summary>What a sparse pre-training run ended with.</summary>
/// <param name="TargetFinalSparsity">s_f of the linear weights (solved when a target Nbar was given).</param>
/// <param name="Schedule">The ramp, e.g. "Cubic 25%-75%".</param>
/// <param name="ParameterCount">N: every parameter of the model.</param>
/// <param name="PrunableCount">P: the linear weights.</param>
/// <param name="FinalNonZeroCount">Unpruned parameters at the end.</param>
/// <param name="AverageParameterCount">Nbar = (1/T) sum_t N(t); with the same tokens every step, also Nbar over tokens.</param>
/// <param name="Tokens">Training tokens seen (steps x batch x sequence length).</param>
public sealed record SparsityRecord(double TargetFinalSparsity, string Schedule, long ParameterCount, long PrunableCount, long FinalNonZeroCount,
    double AverageParameterCount, long Tokens)
{
    /// <summary>Pruned fraction of all parameters at the end.</summary>
    public double OverallSparsity => 1 - (double)FinalNonZeroCount / ParameterCount;

    /// <summary>Pruned fraction of the linear weights at the end.</summary>
    public double PrunableSparsity => PrunableCount == 0 ? 0 : (double)(ParameterCount - FinalNonZeroCount) / PrunableCount;
}
