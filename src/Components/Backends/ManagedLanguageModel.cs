using System.Collections.Concurrent;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Serialization;
using Pipelines.Components.Tensors;
using Pipelines.Components.Training;

namespace Pipelines.Components.Backends;

/// <summary>
/// A <see cref="GptModel"/> behind the backend boundary: training runs the <see cref="LanguageModelTrainer"/> on it;
/// scoring and generation borrow a copy of the weights per concurrent caller.
/// </summary>
public sealed class ManagedLanguageModel : IBackendLanguageModel
{
    private readonly ManagedBackend backend;
    private readonly GptModel model;
    private readonly ConcurrentBag<GptModel> idle = [];

    internal ManagedLanguageModel(ManagedBackend backend, GptModel model)
    {
        this.backend = backend;
        this.model = model;
    }

    /// <inheritdoc />
    public TransformerConfig Config => model.Config;

    /// <inheritdoc />
    public long ParameterCount => model.Parameters.ParameterCount;

    /// <inheritdoc />
    public ITrainingBackend Backend => backend;

    /// <summary>The weights and gradients (for hooks that work on the arena, such as pruning).</summary>
    public ParameterArena Parameters => model.Parameters;

    /// <inheritdoc />
    public void SetTrainable(Func<string, bool> isTrainable)
    {
        ArgumentNullException.ThrowIfNull(isTrainable);
        model.SetTrainable(parameter => isTrainable(parameter.Name));
    }

    /// <inheritdoc />
    public LanguageModelTrainingResult Train(LanguageModelTrainingRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        idle.Clear(); // copies made before training hold the old weights
        var optimizer = new GradientTransformOptimizer(run.Optimizer, model.Parameters, model.Parallelism);
        return new LanguageModelTrainer(model, optimizer, run.Options, run.Hooks)
            .Train(run.TrainingTokens, run.ValidationTokens, run.Progress, run.ResumeFrom, run.CancellationToken);
    }

    /// <inheritdoc />
    public double Evaluate(int[] tokens, LanguageModelTrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(model.Config.ContextLength);
        return LanguageModelTask.Evaluate(model, options, new TokenBatchSampler(tokens, options.BatchSize, options.SequenceLength, options.Seed));
    }

    /// <inheritdoc />
    public double LossSum(ReadOnlySpan<int> inputs, ReadOnlySpan<int> targets, int batchSize, int tokenCount)
    {
        var copy = Rent();
        try
        {
            copy.Forward(inputs, targets, batchSize, tokenCount);
            double sum = 0;
            foreach (var loss in copy.Losses) sum += loss;
            return sum;
        }
        finally
        {
            idle.Add(copy);
        }
    }

    /// <inheritdoc />
    public int[] Generate(ReadOnlySpan<int> prompt, int count, GenerationOptions options, CancellationToken cancellationToken = default)
    {
        var copy = Rent();
        try
        {
            return TokenGenerator.Generate(copy, prompt, count, options, cancellationToken);
        }
        finally
        {
            idle.Add(copy);
        }
    }

    /// <inheritdoc />
    public void SaveSafeTensors(Stream stream, IReadOnlyDictionary<string, string>? metadata = null) => model.Parameters.SaveSafeTensors(stream, metadata);

    /// <summary>A new engine model holding these weights; the caller owns it.</summary>
    public GptModel CreateModel()
    {
        var copy = new GptModel(model.Config, model.Parallelism);
        model.Parameters.Values.CopyTo(copy.Parameters.Values);
        return copy;
    }

    /// <inheritdoc />
    public void Dispose() => idle.Clear();

    private GptModel Rent() => idle.TryTake(out var copy) ? copy : CreateModel();
}
