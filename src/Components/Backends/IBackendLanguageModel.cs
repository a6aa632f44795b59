using Pipelines.Components.Models;
using Pipelines.Components.Training;

namespace Pipelines.Components.Backends;

/// <summary>A causal language model on some <see cref="ITrainingBackend"/>: what the estimators do with one.</summary>
/// <remarks>
/// Scoring and generation may run from several threads at once; training may not run concurrently with anything else.
/// </remarks>
public interface IBackendLanguageModel : IDisposable
{
    /// <summary>The model's shape.</summary>
    TransformerConfig Config { get; }

    /// <summary>Number of weights.</summary>
    long ParameterCount { get; }

    /// <summary>The backend that made the model.</summary>
    ITrainingBackend Backend { get; }

    /// <summary>Chooses by PyTorch name which parameters train; the others stay frozen (no gradient, no update).</summary>
    void SetTrainable(Func<string, bool> isTrainable);

    /// <summary>Trains the model in place (see <see cref="LanguageModelTrainingRun"/>) through the one <see cref="TrainingLoop"/> of the backend.</summary>
    /// <exception cref="TrainingDivergedException">The loss or the gradients became non-finite (the step is named).</exception>
    /// <exception cref="RunChangedException">The checkpoint to resume was trained under a different run.</exception>
    /// <exception cref="NotSupportedException">The backend cannot run the optimizer chain or a hook of the run (the message says which backend can).</exception>
    /// <exception cref="OperationCanceledException">The run's cancellation token was cancelled.</exception>
    LanguageModelTrainingResult Train(LanguageModelTrainingRun run);

    /// <summary>Mean next-token loss over <see cref="LanguageModelTrainingOptions.EvaluationBatches"/> fixed windows of <paramref name="tokens"/>.</summary>
    double Evaluate(int[] tokens, LanguageModelTrainingOptions options);

    /// <summary>
    /// The summed cross-entropy <c>Σ −ln p(targetᵢ | inputs≤ᵢ)</c> of <paramref name="inputs"/> [B, T] against
    /// <paramref name="targets"/> [B, T] (-1 = ignore), in nats; thread-safe.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside the vocabulary or a size outside [1, context].</exception>
    double LossSum(ReadOnlySpan<int> inputs, ReadOnlySpan<int> targets, int batchSize, int tokenCount);

    /// <summary>Continues <paramref name="prompt"/> by <paramref name="count"/> sampled tokens (see <see cref="TokenGenerator"/>); thread-safe.</summary>
    int[] Generate(ReadOnlySpan<int> prompt, int count, GenerationOptions options, CancellationToken cancellationToken = default);

    /// <summary>Writes every weight as an F32 safetensors tensor under its PyTorch name, with <paramref name="metadata"/>.</summary>
    void SaveSafeTensors(Stream stream, IReadOnlyDictionary<string, string>? metadata = null);
}
