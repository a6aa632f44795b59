using Microsoft.ML;
using Pipelines.FineTuning;
using Pipelines.MachineLearning;

namespace Pipelines;

/// <summary>The fine-tuned encoder in ML.NET's multiclass catalog (<c>mlContext.MulticlassClassification.Trainers</c>).</summary>
public static class TextClassificationCatalogExtensions
{
    /// <summary>
    /// Fine-tunes a transformer encoder to predict the key label <paramref name="labelColumnName"/> from the token
    /// column <paramref name="tokensColumnName"/>, adding <paramref name="predictedLabelColumnName"/> and <paramref name="scoreColumnName"/>.
    /// </summary>
    /// <param name="catalog">ML.NET's multiclass trainers catalog.</param>
    /// <param name="labelColumnName">The label, a key column (<c>MapValueToKey("Label")</c> makes one).</param>
    /// <param name="tokensColumnName">The token keys written by <c>mlContext.Transforms.Text.TrainBytePairEncoding()</c>.</param>
    /// <param name="predictedLabelColumnName">The predicted label, of the label's key type.</param>
    /// <param name="scoreColumnName">The per-class probabilities.</param>
    /// <param name="epochs">Passes over the training data.</param>
    /// <param name="batchSize">Sequences per step.</param>
    /// <param name="validationSet">Labelled rows (with the token and label columns) evaluated after training, or null.</param>
    /// <remarks>A BERT-style pre-LN encoder, mean-pooled, trained with cross-entropy (Devlin et al., arXiv 1810.04805): see <see cref="TextClassificationEstimator"/>.</remarks>
    /// <example>
    /// <code>
    /// var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label")
    ///     .Append(mlContext.Transforms.Text.TrainBytePairEncoding())
    ///     .Append(mlContext.MulticlassClassification.Trainers.TextClassifier())
    ///     .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
    /// </code>
    /// See <c>samples/SpamFineTune</c> and <c>samples/MLNetInterop</c>.
    /// </example>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (the message names it).</exception>
    public static TextClassificationEstimator TextClassifier(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = "Label", string tokensColumnName = "Tokens", string predictedLabelColumnName = "PredictedLabel", string scoreColumnName = "Score",
        double epochs = 3, int batchSize = 16, IDataView? validationSet = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return catalog.TextClassifier(new TextClassificationOptions
        {
            LabelColumnName = labelColumnName,
            TokensColumnName = tokensColumnName,
            PredictedLabelColumnName = predictedLabelColumnName,
            ScoreColumnName = scoreColumnName,
            Epochs = epochs,
            BatchSize = batchSize,
            ValidationSet = validationSet,
        });
    }

    /// <summary>Fine-tunes a transformer encoder as <paramref name="options"/> say.</summary>
    /// <param name="catalog">ML.NET's multiclass trainers catalog.</param>
    /// <param name="options">Columns, model shape, run length, optimizer, validation set, progress, cancellation and checkpoints.</param>
    /// <exception cref="ArgumentOutOfRangeException">Options that do not fit together (the message names the option).</exception>
    public static TextClassificationEstimator TextClassifier(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, TextClassificationOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new TextClassificationEstimator(MachineLearningInternals.GetEnvironment(catalog), options);
    }
}
