using Pipelines.Components.Compute;
using Pipelines.Components.Text;
using Pipelines.Data;

namespace Pipelines.Estimators.Tests.FineTuning;

/// <summary>A token sequence with a text label.</summary>
public sealed class TextLabelRow
{
    public int[] Tokens { get; set; } = [];

    public string Label { get; set; } = "";
}

/// <summary>A token sequence with a boolean label.</summary>
public sealed class BooleanLabelRow
{
    public int[] Tokens { get; set; } = [];

    public bool Label { get; set; }
}

/// <summary>A token sequence with a key label over three values.</summary>
public sealed class KeyLabelRow
{
    public int[] Tokens { get; set; } = [];

    [KeyType(3)]
    public uint Label { get; set; }
}

/// <summary>A token sequence with a label of an unsupported type.</summary>
public sealed class FloatLabelRow
{
    public int[] Tokens { get; set; } = [];

    public float Label { get; set; }
}

/// <summary>What the classifier adds, read back.</summary>
public sealed class TextPrediction
{
    public string PredictedLabel { get; set; } = "";

    public float[] Score { get; set; } = [];
}

/// <summary>Hand-made predictions of three classes, for the metrics.</summary>
public sealed class ScoredRow
{
    public string Label { get; set; } = "";

    public string PredictedLabel { get; set; } = "";

    [VectorType(3)]
    public float[] Score { get; set; } = [];
}

/// <summary>Data for the fine-tuning tests: a synthetic separable task and a tokenised slice of the shipped spam set.</summary>
internal static class FineTuningData
{
    public const int MarkerToken = 5;
    public const int MarkerVocabulary = 12;

    /// <summary>Sequences of 2..8 tokens; label "yes" when token 5 appears (about half of them), else "no".</summary>
    public static TextLabelRow[] MarkerRows(int count, ulong seed)
    {
        var random = new SeededRandom(seed);
        var rows = new TextLabelRow[count];
        for (var row = 0; row < count; row++)
        {
            var tokens = new int[2 + random.NextInt32(7)];
            for (var position = 0; position < tokens.Length; position++)
            {
                var token = random.NextInt32(MarkerVocabulary - 1);
                tokens[position] = token >= MarkerToken ? token + 1 : token;
            }

            var marked = random.NextInt32(2) == 1;
            if (marked) tokens[random.NextInt32(tokens.Length)] = MarkerToken;
            rows[row] = new TextLabelRow { Tokens = tokens, Label = marked ? "yes" : "no" };
        }

        return rows;
    }

    /// <summary>Rows of a spam TSV (<c>Label\tText</c>, header, no quoting).</summary>
    public static (string Label, string Text)[] SpamRows(string split) =>
        [.. File.ReadLines(Path.Combine(RepositoryRoot.Value, "samples", "data", "spam", $"{split}.tsv")).Skip(1).Select(line =>
        {
            var tab = line.IndexOf('\t');
            return (line[..tab], line[(tab + 1)..]);
        })];

    /// <summary>A byte-pair encoding learnt from <paramref name="texts"/>.</summary>
    public static BytePairEncoding TrainTokenizer(IEnumerable<string> texts, int vocabularySize) =>
        new BytePairEncodingTrainer(new BytePairEncodingTrainerOptions { VocabularySize = vocabularySize }).Train(texts);

    private static readonly Lazy<string> RepositoryRoot = new(() =>
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Pipelines.sln"))) return directory.FullName;
        }

        throw new InvalidOperationException($"No Pipelines.sln above {AppContext.BaseDirectory}.");
    });
}
