using Microsoft.ML;
using Microsoft.ML.Data;
using Pipelines.Components.Models;
using Pipelines.Components.Training;
using Pipelines.Pretraining;
using Pipelines.Text;
using Pipelines.Tests.Support;

namespace Pipelines.Estimators.Tests.Pretraining;

/// <summary>A document: the row type of the text views.</summary>
public sealed class DocumentRow
{
    public string Text { get; set; } = "";
}

/// <summary>Token keys (id + 1) of a vocabulary of <see cref="PretrainingFixtures.VocabularySize"/>, with no tokenizer behind them.</summary>
public sealed class TokenRow
{
    [KeyType(PretrainingFixtures.VocabularySize)]
    public uint[] Tokens { get; set; } = [];
}

/// <summary>Calls back on the training thread (a <see cref="Progress{T}"/> would post to the thread pool, too late to stop at an exact step).</summary>
internal sealed class StepProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

/// <summary>
/// Data and models the pretraining tests share: a slice of the shipped Brown corpus, a tokenizer trained on it and
/// a tiny GPT trained once (lazily, shared by the tests that only read it).
/// </summary>
internal static class PretrainingFixtures
{
    /// <summary>Training characters taken from <c>samples/data/brown/train.txt</c> (whole paragraphs up to this size).</summary>
    public const int TrainingCharacters = 60_000;

    /// <summary>Validation characters taken from <c>samples/data/brown/validation.txt</c>.</summary>
    public const int ValidationCharacters = 12_000;

    public const int VocabularySize = 384;

    private static readonly Lazy<string[]> TrainingParagraphs = new(() => Paragraphs("train.txt", TrainingCharacters));
    private static readonly Lazy<string[]> ValidationParagraphs = new(() => Paragraphs("validation.txt", ValidationCharacters));
    private static readonly Lazy<BytePairEncodingTransformer> SharedTokenizer = new(() =>
    {
        var context = new MLContext(seed: 1);
        return context.Transforms.Text.TrainBytePairEncoding(vocabularySize: VocabularySize).Fit(Training(context));
    });

    private static readonly Lazy<CausalLanguageModelTransformer> SharedModel = new(() => Train(TinyOptions() with { Steps = 60 }).Model);

    /// <summary>The Brown training slice, one paragraph per row.</summary>
    public static IDataView Training(MLContext context) => Load(context, TrainingParagraphs.Value);

    /// <summary>The Brown validation slice, one paragraph per row.</summary>
    public static IDataView Validation(MLContext context) => Load(context, ValidationParagraphs.Value);

    /// <summary>A tokenizer of <see cref="VocabularySize"/> ids trained on the training slice.</summary>
    public static BytePairEncodingTransformer Tokenizer => SharedTokenizer.Value;

    /// <summary>A tiny model trained for 60 steps on the tokenized training slice (shared: only read it).</summary>
    public static CausalLanguageModelTransformer Model => SharedModel.Value;

    /// <summary>A 1-layer, 32-wide GPT with a 32-token context on one thread, evaluated every 20 steps.</summary>
    public static CausalLanguageModelOptions TinyOptions() => new()
    {
        Model = new TransformerConfig(layerCount: 1, headCount: 2, channels: 32, contextLength: 32),
        BatchSize = 8,
        Steps = 60,
        LearningRate = 1e-2,
        EvaluationInterval = 20,
        EvaluationBatches = 2,
        ThreadCount = 1,
        Seed = 5,
    };

    /// <summary>Trains with <paramref name="options"/> on the tokenized training slice, validating on the tokenized validation slice.</summary>
    public static (CausalLanguageModelTransformer Model, IDataView TrainTokens, IDataView ValidationTokens) Train(CausalLanguageModelOptions options,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var context = new MLContext(seed: 1);
        var train = Tokenizer.Transform(Training(context));
        var validation = Tokenizer.Transform(Validation(context));
        var model = context.Pretraining().CausalLanguageModel(options with { ValidationSet = validation, Progress = progress, CancellationToken = cancellationToken }).Fit(train);
        return (model, train, validation);
    }

    /// <summary>Token rows (0-based ids) as a data view of keys, with no tokenizer behind them.</summary>
    public static IDataView Tokens(MLContext context, params int[][] rows) =>
        context.Data.LoadFromEnumerable(rows.Select(row => new TokenRow { Tokens = [.. row.Select(id => (uint)(id + 1))] }));

    /// <summary>The float column <paramref name="columnName"/> of every row.</summary>
    public static float[] ReadSingles(IDataView data, string columnName) => [.. data.GetColumn<float>(columnName)];

    /// <summary>The bits of each value, to compare floats exactly (NaN included).</summary>
    public static int[] Bits(float[] values) => [.. values.Select(BitConverter.SingleToInt32Bits)];

    private static IDataView Load(MLContext context, string[] paragraphs) =>
        context.Data.LoadFromEnumerable(paragraphs.Select(paragraph => new DocumentRow { Text = paragraph }));

    private static string[] Paragraphs(string fileName, int characters)
    {
        var text = File.ReadAllText(RepositoryRoot.Combine("samples", "data", "brown", fileName));
        var paragraphs = new List<string>();
        var total = 0;
        foreach (var paragraph in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (total + paragraph.Length > characters) break;
            paragraphs.Add(paragraph);
            total += paragraph.Length;
        }

        return [.. paragraphs];
    }
}
