using Pipelines.Components.Diagnostics;
using Pipelines.Components.Models;
using Pipelines.Components.Serialization;
using Pipelines.Components.Training;

namespace Pipelines.Components.Backends;

/// <summary>An encoder classifier on some <see cref="ITrainingBackend"/>: what the estimators do with one.</summary>
/// <remarks>Prediction may run from several threads at once; training may not run concurrently with anything else.</remarks>
public interface IBackendClassifier : IDisposable
{
    /// <summary>The encoder's shape.</summary>
    TransformerConfig Config { get; }

    /// <summary>Number of classes K.</summary>
    int ClassCount { get; }

    /// <summary>Number of weights.</summary>
    long ParameterCount { get; }

    /// <summary>The backend that made the model.</summary>
    ITrainingBackend Backend { get; }

    /// <summary>Chooses by PyTorch name which parameters train; the others stay frozen.</summary>
    void SetTrainable(Func<string, bool> isTrainable);

    /// <summary>Copies the shared body (embeddings, blocks, final norm) from a pre-trained GPT's tensors (see <see cref="PretrainedEncoderBody"/>); returns the tensors copied.</summary>
    /// <exception cref="InvalidDataException">A body parameter is missing or of another type or shape (every problem is named).</exception>
    int LoadPretrainedBody(SafeTensorFile file);

    /// <summary>Fine-tunes the model in place through the one <see cref="TrainingLoop"/> (see <see cref="ClassifierTrainingRun"/>).</summary>
    /// <exception cref="TrainingDivergedException">The loss or the gradients became non-finite (the step is named).</exception>
    /// <exception cref="RunChangedException">The checkpoint to resume was trained under a different run.</exception>
    /// <exception cref="OperationCanceledException">The run's cancellation token was cancelled.</exception>
    ClassifierTrainingResult Train(ClassifierTrainingRun run);

    /// <summary>Mean cross-entropy and accuracy over every example of <paramref name="data"/>, in batches of <paramref name="options"/>' size.</summary>
    ClassifierEvaluation Evaluate(LabeledSequences data, ClassifierTrainerOptions options);

    /// <summary>Writes the class probabilities [K] of one sequence, cut to <paramref name="maximumLength"/> tokens as in training; thread-safe.</summary>
    /// <exception cref="ArgumentException">The sequence is empty, or <paramref name="probabilities"/> is not K long.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A token id is outside the vocabulary.</exception>
    void Predict(ReadOnlySpan<int> tokens, int maximumLength, Span<float> probabilities);

    /// <summary>
    /// The per-layer diagnostics of the model on target-task <paramref name="batches"/> (arXiv 2511.00797): attention entropy,
    /// Gh and Gw of every block with <see cref="LayerDiagnostics"/>' formulas; with <paramref name="comparison"/>, also CKA and
    /// dCKA of each block's output against that model's on the same batches.
    /// </summary>
    /// <param name="batches">Encoder batches: labels [B], key mask [B, T].</param>
    /// <param name="comparison">A model of the same shape on the same backend (e.g. the source after fine-tuning), or null.</param>
    /// <param name="principalComponents">k, the PCA basis size of dCKA (clipped to the rows and the width).</param>
    /// <remarks>Runs forward and backward passes: the gradients are overwritten, the weights are not changed.</remarks>
    /// <exception cref="ArgumentException">No batches, a batch that does not fit, or a comparison of another shape or backend.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="principalComponents"/> is below 1.</exception>
    IReadOnlyList<LayerMetrics> Diagnose(IReadOnlyList<DiagnosticBatch> batches, IBackendClassifier? comparison, int principalComponents);

    /// <summary>Writes every weight as an F32 safetensors tensor under its PyTorch name, with <paramref name="metadata"/>.</summary>
    void SaveSafeTensors(Stream stream, IReadOnlyDictionary<string, string>? metadata = null);
}
