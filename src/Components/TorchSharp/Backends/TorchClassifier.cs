using Pipelines.Components.Backends;
using Pipelines.Components.Compute;
using Pipelines.Components.Diagnostics;
using Pipelines.Components.Models;
using Pipelines.Components.Serialization;
using Pipelines.Components.Training;
using Pipelines.Components.TorchSharp.Diagnostics;
using Pipelines.Components.TorchSharp.Optimization;
using static TorchSharp.torch;

namespace Pipelines.Components.TorchSharp.Backends;

/// <summary>
/// A <see cref="TorchEncoderClassifier"/> behind the backend boundary: fine-tuned by the one <see cref="TrainingLoop"/>
/// with a <see cref="TorchOptimizer"/> (any optimizer chain) on the model's device; evaluation and prediction run there too.
/// </summary>
public sealed class TorchClassifier : IBackendClassifier
{
    private readonly TorchSharpBackend backend;
    private readonly TorchEncoderClassifier module;
    private readonly EncoderClassifier layout; // names, shapes, decay policy, and the pretrained-body loader
    private readonly Lock gate = new();

    internal TorchClassifier(TorchSharpBackend backend, TorchEncoderClassifier module)
    {
        this.backend = backend;
        this.module = module;
        layout = new EncoderClassifier(module.Config, module.ClassCount, Parallelism.Sequential);
    }

    /// <inheritdoc />
    public TransformerConfig Config => module.Config;

    /// <inheritdoc />
    public int ClassCount => module.ClassCount;

    /// <inheritdoc />
    public long ParameterCount => layout.Parameters.ParameterCount;

    /// <inheritdoc />
    public ITrainingBackend Backend => backend;

    /// <summary>The module, on <see cref="TorchSharpBackend.Device"/>.</summary>
    public TorchEncoderClassifier Module => module;

    /// <inheritdoc />
    public void SetTrainable(Func<string, bool> isTrainable)
    {
        ArgumentNullException.ThrowIfNull(isTrainable);
        foreach (var (name, parameter) in module.named_parameters()) parameter.requires_grad = isTrainable(name);
    }

    /// <inheritdoc />
    public int LoadPretrainedBody(SafeTensorFile file)
    {
        lock (gate)
        {
            module.StoreValuesTo(layout.Parameters);
            var count = PretrainedEncoderBody.Load(layout, file);
            module.LoadFrom(layout.Parameters);
            return count;
        }
    }

    /// <inheritdoc />
    /// <exception cref="NotSupportedException">The optimizer chain holds a transform <see cref="TorchOptimizer"/> does not run, LoRA is asked for, or a hook has no device part (see <see cref="TorchTrainingHooks"/>): the managed backend runs those.</exception>
    /// <exception cref="RunChangedException">The checkpoint to resume from was trained under a different run.</exception>
    /// <exception cref="InvalidDataException">The checkpoint to resume from is not one, is truncated, or does not fit this model, optimizer and hooks.</exception>
    public ClassifierTrainingResult Train(ClassifierTrainingRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        run.Options.Validate(Config.ContextLength);
        run.Training.CheckFits(Config, ClassCount, nameof(run.Training));
        run.Validation?.CheckFits(Config, ClassCount, nameof(run.Validation));
        ExampleWeighting.Check(run.ExampleWeights, run.Training.Count, nameof(run.ExampleWeights));
        if (run.LoraPlan is not null)
            throw new NotSupportedException("The TorchSharp backend does not train LoRA adapters yet; the managed backend (ManagedBackend) does. Leave Backend null or pass a ManagedBackend.");
        TorchTrainingHooks.CheckSupported(run.Hooks);
        lock (gate)
        {
            using var optimizer = new TorchOptimizer(module, layout.Parameters, run.Optimizer); // refuses an unknown transform before anything runs
            using var task = new TorchClassifierTask(module, run.Options, run.Training, run.Validation, run.ExampleWeights);
            using var state = new TorchTrainingState(module, layout.Parameters, optimizer, run.Hooks);
            var loop = new TrainingLoop(task, state, run.Options.Loop);
            var record = RunRecord.ForClassifier(Config, ClassCount, run.Options, run.Optimizer, run.Training, run.ExampleWeights);
            var result = loop.Run(record, run.Progress, run.ResumeFrom, run.CancellationToken);
            var finalValidation = task.LatestValidation ?? (run.Validation is null ? null : TorchClassifierTask.Evaluate(module, run.Options, run.Validation));
            return new ClassifierTrainingResult(result.Steps, result.History, finalValidation, result.StepsThisRun);
        }
    }

    /// <inheritdoc />
    public ClassifierEvaluation Evaluate(LabeledSequences data, ClassifierTrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        data.CheckFits(Config, ClassCount, nameof(data));
        lock (gate) return TorchClassifierTask.Evaluate(module, options, data);
    }

    /// <inheritdoc />
    public void Predict(ReadOnlySpan<int> tokens, int maximumLength, Span<float> probabilities)
    {
        if (tokens.IsEmpty) throw new ArgumentException("The sequence is empty: the encoder needs at least one token to pool.", nameof(tokens));
        if (maximumLength < 1 || maximumLength > Config.ContextLength)
            throw new ArgumentOutOfRangeException(nameof(maximumLength), maximumLength, $"Must be between 1 and the model's context ({Config.ContextLength}).");
        if (probabilities.Length != ClassCount)
            throw new ArgumentException($"'{nameof(probabilities)}' has {probabilities.Length} elements; the model has {ClassCount} classes.", nameof(probabilities));
        var kept = tokens[..Math.Min(tokens.Length, maximumLength)];
        ModelInputValidation.CheckBatch(Config, kept, 1, kept.Length);
        float[] values;
        lock (gate)
        {
            module.eval();
            using var noGradient = no_grad();
            using var scope = NewDisposeScope();
            var logits = module.forward(TorchLanguageModelTask.ToDevice(module.Device, kept, 1, kept.Length), null);
            values = TorchParameters.ToSingleArray(nn.functional.softmax(logits, 1));
        }

        values.CopyTo(probabilities);
    }

    /// <inheritdoc />
    /// <remarks>On the device, through <see cref="TorchLayerDiagnostics"/>; only the per-layer scalars and, with a comparison, the block outputs come to the host.</remarks>
    public IReadOnlyList<LayerMetrics> Diagnose(IReadOnlyList<DiagnosticBatch> batches, IBackendClassifier? comparison, int principalComponents)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(principalComponents, 1);
        lock (gate)
        {
            return comparison switch
            {
                null => TorchLayerDiagnostics.Measure(module, batches),
                TorchClassifier other => TorchLayerDiagnostics.Measure(module, other.module, batches, principalComponents),
                _ => throw new ArgumentException($"The comparison model runs on the {comparison.Backend.Name} backend; compare two models of the {backend.Name} backend.", nameof(comparison)),
            };
        }
    }

    /// <inheritdoc />
    public void SaveSafeTensors(Stream stream, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        lock (gate) SafeTensors.Write(stream, module.ToSafeTensors(metadata));
    }

    /// <inheritdoc />
    public void Dispose() => module.Dispose();
}
