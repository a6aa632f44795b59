using Pipelines.FineTuning;

namespace Pipelines;

/// <summary>The <see cref="FineTuningCatalog"/> entries: text classification and its evaluation.</summary>
public static class FineTuningCatalogExtensions
{
    /// <summary>Fine-tunes an encoder to predict <paramref name="labelColumnName"/> from the token ids in <paramref name="tokensColumnName"/>, with default options.</summary>
    /// <example><c>context.FineTuning.TextClassification("Tokens", "Label").Fit(train, validation)</c>; see <c>samples/SpamFineTune</c>.</example>
    public static TextClassificationEstimator TextClassification(this FineTuningCatalog catalog, string tokensColumnName = "Tokens", string labelColumnName = "Label")
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return catalog.TextClassification(new TextClassificationOptions { TokensColumnName = tokensColumnName, LabelColumnName = labelColumnName });
    }

    /// <summary>Fine-tunes an encoder as <paramref name="options"/> say.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Options that do not fit together, naming the option.</exception>
    public static TextClassificationEstimator TextClassification(this FineTuningCatalog catalog, TextClassificationOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new TextClassificationEstimator(catalog.Context, options);
    }

    /// <summary>
    /// Accuracy, macro-F1, log-loss, per-class precision/recall/F1 and the confusion matrix of a classifier's predictions
    /// (the output of <see cref="TextClassificationTransformer"/>), as ML.NET's <c>MulticlassClassification.Evaluate</c>.
    /// </summary>
    /// <param name="catalog">The catalog.</param>
    /// <param name="predictions">Rows with a label, a predicted label of the label's type, and per-class scores.</param>
    /// <param name="labelColumnName">The label column: text, boolean or key.</param>
    /// <param name="scoreColumnName">The per-class probabilities, a vector of Single in the order of <see cref="TextClassificationTransformer.Classes"/>.</param>
    /// <param name="predictedLabelColumnName">The predicted label column.</param>
    /// <exception cref="SchemaMismatchException">A column is missing or of the wrong type.</exception>
    /// <exception cref="InvalidOperationException">Text labels from which the score slots' classes cannot be recovered.</exception>
    public static ClassificationMetrics Evaluate(this FineTuningCatalog catalog, IDataView predictions, string labelColumnName = "Label",
        string scoreColumnName = "Score", string predictedLabelColumnName = "PredictedLabel")
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return ClassificationEvaluator.Evaluate(predictions, labelColumnName, scoreColumnName, predictedLabelColumnName);
    }
}
