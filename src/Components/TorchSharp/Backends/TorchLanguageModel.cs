using Pipelines.Components.Backends;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Serialization;
using Pipelines.Components.Tensors;
using Pipelines.Components.Training;
using Pipelines.Components.TorchSharp.Optimization;
using static TorchSharp.torch;

namespace Pipelines.Components.TorchSharp.Backends;

/// <summary>
/// A <see cref="TorchGptModel"/> behind the backend boundary: training runs the one <see cref="TrainingLoop"/> with a
/// <see cref="TorchOptimizer"/> (any optimizer chain) on the model's device; scoring runs there too; generation samples on the managed engine
/// from the exported weights (each sampled token needs the host anyway).
/// </summary>
public sealed class TorchLanguageModel : IBackendLanguageModel
{
    private readonly TorchSharpBackend backend;
    private readonly TorchGptModel module;
    private readonly ParameterArena layout; // names and shapes for the optimizer chain's predicates
    private readonly Lock gate = new();
    private GptModel? generator;

    internal TorchLanguageModel(TorchSharpBackend backend, TorchGptModel module)
    {
        this.backend = backend;
        this.module = module;
        layout = new GptModel(module.Config, Parallelism.Sequential).Parameters;
    }

    /// <inheritdoc />
    public TransformerConfig Config => module.Config;

    /// <inheritdoc />
    public long ParameterCount => layout.ParameterCount;

    /// <inheritdoc />
    public ITrainingBackend Backend => backend;

    /// <summary>The module, on <see cref="TorchSharpBackend.Device"/>.</summary>
    public TorchGptModel Module => module;

    /// <inheritdoc />
    public void SetTrainable(Func<string, bool> isTrainable)
    {
        ArgumentNullException.ThrowIfNull(isTrainable);
        foreach (var (name, parameter) in module.named_parameters()) parameter.requires_grad = isTrainable(name);
    }

    /// <inheritdoc />
    /// <exception cref="NotSupportedException">
    /// The optimizer chain holds a transform <see cref="TorchOptimizer"/> does not run, or a hook other than <see cref="ScheduleLayoutHook"/>, <see cref="DecayedCheckpointHook"/> and
    /// <see cref="Sparsity.PruningTrainingHook"/> is given (see <see cref="TorchTrainingHooks"/>): the managed backend runs those.
    /// </exception>
    /// <exception cref="RunChangedException">The checkpoint to resume from was trained under a different run.</exception>
    /// <exception cref="InvalidDataException">The checkpoint to resume from is not one, is truncated, or does not fit this model, optimizer and hooks.</exception>
    public LanguageModelTrainingResult Train(LanguageModelTrainingRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        run.Options.Validate(Config.ContextLength);
        TorchTrainingHooks.CheckSupported(run.Hooks);
        lock (gate)
        {
            using var optimizer = new TorchOptimizer(module, layout, run.Optimizer); // refuses an unknown transform before anything runs
            generator = null;
            using var task = new TorchLanguageModelTask(module, run.Options, run.TrainingTokens, run.ValidationTokens);
            using var state = new TorchTrainingState(module, layout, optimizer, run.Hooks);
            var loop = new TrainingLoop(task, state, run.Options.Loop);
            var record = RunRecord.ForLanguageModel(Config, run.Options, run.Optimizer, run.TrainingTokens);
            var result = loop.Run(record, run.Progress, run.ResumeFrom, run.CancellationToken);
            return new LanguageModelTrainingResult(result.Steps, result.History, result.FinalValidationLoss);
        }
    }

    /// <inheritdoc />
    public double Evaluate(int[] tokens, LanguageModelTrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(Config.ContextLength);
        lock (gate) return TorchLanguageModelTask.Evaluate(module, options, new TokenBatchSampler(tokens, options.BatchSize, options.SequenceLength, options.Seed));
    }

    /// <inheritdoc />
    public double LossSum(ReadOnlySpan<int> inputs, ReadOnlySpan<int> targets, int batchSize, int tokenCount)
    {
        ModelInputValidation.CheckBatch(Config, inputs, batchSize, tokenCount);
        ModelInputValidation.CheckTargets(targets, (long)batchSize * tokenCount, Config.VocabularySize, nameof(targets));
        lock (gate)
        {
            module.eval();
            using var noGradient = no_grad();
            using var scope = NewDisposeScope();
            var logits = module.forward(TorchLanguageModelTask.ToDevice(module.Device, inputs, batchSize, tokenCount));
            var targetTensor = TorchLanguageModelTask.ToDevice(module.Device, targets, batchSize, tokenCount);
            var losses = nn.functional.cross_entropy(logits.reshape(-1, Config.VocabularySize), targetTensor.reshape(-1), ignore_index: -1, reduction: nn.Reduction.None);
            return losses.to_type(ScalarType.Float64).sum().item<double>();
        }
    }

    /// <inheritdoc />
    public int[] Generate(ReadOnlySpan<int> prompt, int count, GenerationOptions options, CancellationToken cancellationToken = default)
    {
        GptModel managed;
        lock (gate) managed = generator ??= ManagedCopy();
        lock (managed) return TokenGenerator.Generate(managed, prompt, count, options, cancellationToken);
    }

    /// <inheritdoc />
    public void SaveSafeTensors(Stream stream, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        lock (gate) SafeTensors.Write(stream, module.ToSafeTensors(metadata));
    }

    /// <inheritdoc />
    public void Dispose() => module.Dispose();

    private GptModel ManagedCopy()
    {
        var copy = new GptModel(Config, Parallelism.Sequential);
        module.StoreValuesTo(copy.Parameters);
        return copy;
    }
}
