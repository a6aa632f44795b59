using System.Collections.Concurrent;
using Pipelines.Components.Compute;
using Pipelines.Components.Diagnostics;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Privacy;
using Pipelines.Components.Serialization;
using Pipelines.Components.Tensors;
using Pipelines.Components.Training;

namespace Pipelines.Components.Backends;

/// <summary>
/// An <see cref="EncoderClassifier"/> behind the backend boundary: training runs the <see cref="ClassifierTrainer"/>
/// on it; each concurrent prediction borrows a one-thread copy of the weights, so predictions do not depend on the machine.
/// </summary>
public sealed partial class ManagedClassifier : IBackendClassifier
{
    private readonly ManagedBackend backend;
    private readonly EncoderClassifier model;
    private readonly ConcurrentBag<EncoderClassifier> idle = [];

    internal ManagedClassifier(ManagedBackend backend, EncoderClassifier model)
    {
        this.backend = backend;
        this.model = model;
    }

    /// <inheritdoc />
    public TransformerConfig Config => model.Config;

    /// <inheritdoc />
    public int ClassCount => model.ClassCount;

    /// <inheritdoc />
    public long ParameterCount => model.Parameters.ParameterCount;

    /// <inheritdoc />
    public ITrainingBackend Backend => backend;

    /// <summary>The weights and gradients.</summary>
    public ParameterArena Parameters => model.Parameters;

    /// <inheritdoc />
    public void SetTrainable(Func<string, bool> isTrainable)
    {
        ArgumentNullException.ThrowIfNull(isTrainable);
        model.SetTrainable(parameter => isTrainable(parameter.Name));
    }

    /// <inheritdoc />
    public int LoadPretrainedBody(SafeTensorFile file)
    {
        idle.Clear();
        return PretrainedEncoderBody.Load(model, file);
    }

    /// <inheritdoc />
    public ClassifierTrainingResult Train(ClassifierTrainingRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        idle.Clear(); // copies made before training hold the old weights
        if (run.LoraPlan is { } plan) return TrainAdapter(run, plan);
        var optimizer = new GradientTransformOptimizer(run.Optimizer, model.Parameters, model.Parallelism);
        return new ClassifierTrainer(model, optimizer, run.Options, run.Hooks)
            .Train(run.Training, run.Validation, run.Progress, run.ResumeFrom, run.CancellationToken, run.ExampleWeights);
    }

    /// <summary>Fine-tunes the model in place with DP-SGD under <paramref name="privacy"/>'s budget (<see cref="PrivateClassifierTrainer"/>); the run's hooks and loss weights are refused.</summary>
    /// <exception cref="ArgumentException">The run has hooks or per-example loss weights.</exception>
    /// <remarks>With <see cref="ClassifierTrainingRun.LoraPlan"/>, the adapter's A and B train privately with the head (private LoRA) and are merged afterwards.</remarks>
    public PrivateClassifierTrainingResult TrainPrivately(ClassifierTrainingRun run, DifferentialPrivacy privacy)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (run.Hooks.Count > 0 || run.ExampleWeights is not null)
            throw new ArgumentException("A private run takes no training hooks and no per-example loss weights: each example's own gradient is clipped.", nameof(run));
        idle.Clear();
        if (run.LoraPlan is { } plan) return TrainAdapterPrivately(run, plan, privacy);
        return new PrivateClassifierTrainer(model, run.Optimizer, run.Options, privacy)
            .Train(run.Training, run.Validation, run.Progress, run.ResumeFrom, run.CancellationToken);
    }

    /// <inheritdoc />
    public ClassifierEvaluation Evaluate(LabeledSequences data, ClassifierTrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        data.CheckFits(model.Config, model.ClassCount, nameof(data));
        return ClassifierTask.Evaluate(model, options, data);
    }

    /// <inheritdoc />
    public void Predict(ReadOnlySpan<int> tokens, int maximumLength, Span<float> probabilities)
    {
        var copy = idle.TryTake(out var existing) ? existing : CreateModel(Parallelism.Sequential);
        try
        {
            ClassifierTrainer.Predict(copy, tokens, maximumLength, probabilities);
        }
        finally
        {
            idle.Add(copy);
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<LayerMetrics> Diagnose(IReadOnlyList<DiagnosticBatch> batches, IBackendClassifier? comparison, int principalComponents)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(principalComponents, 1);
        return comparison switch
        {
            null => LayerDiagnostics.Measure(model, batches),
            ManagedClassifier other => LayerDiagnostics.Measure(model, other.model, batches, principalComponents),
            _ => throw new ArgumentException($"The comparison model runs on the {comparison.Backend.Name} backend; compare two models of the {backend.Name} backend.", nameof(comparison)),
        };
    }

    /// <inheritdoc />
    public void SaveSafeTensors(Stream stream, IReadOnlyDictionary<string, string>? metadata = null) => model.Parameters.SaveSafeTensors(stream, metadata);

    /// <summary>A new engine model holding these weights; the caller owns it.</summary>
    public EncoderClassifier CreateModel(Parallelism parallelism)
    {
        var copy = new EncoderClassifier(model.Config, model.ClassCount, parallelism);
        model.Parameters.Values.CopyTo(copy.Parameters.Values);
        return copy;
    }

    /// <inheritdoc />
    public void Dispose() => idle.Clear();
}
