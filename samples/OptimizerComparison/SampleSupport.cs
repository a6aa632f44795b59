using System.Globalization;
using Pipelines.Components.Experiments;
using Pipelines.Components.Models;
using Pipelines.Components.Text;
using Pipelines.Components.Training;

namespace Pipelines.Samples;

/// <summary>The Brown corpus of <c>samples/data/brown</c>, tokenised with a byte-pair encoding learned on its training split.</summary>
/// <param name="Training">Training tokens.</param>
/// <param name="Validation">Validation tokens.</param>
/// <param name="Encoding">The encoding.</param>
/// <param name="ValidationBytesPerToken">Bytes of validation text per validation token (to turn nats/token into nats/byte).</param>
internal sealed record BrownCorpus(int[] Training, int[] Validation, BytePairEncoding Encoding, double ValidationBytesPerToken)
{
    /// <summary>Learns a <paramref name="vocabularySize"/> BPE on the training documents and encodes both splits.</summary>
    public static BrownCorpus Load(int vocabularySize)
    {
        var directory = SampleArguments.FindRepositoryPath(Path.Combine("samples", "data", "brown"));
        var training = File.ReadAllText(Path.Combine(directory, "train.txt"));
        var validation = File.ReadAllText(Path.Combine(directory, "validation.txt"));
        var encoding = new BytePairEncodingTrainer(new BytePairEncodingTrainerOptions { VocabularySize = vocabularySize })
            .Train(training.Split("\n\n"));
        var validationTokens = encoding.Encode(validation);
        return new BrownCorpus(encoding.Encode(training), validationTokens, encoding, (double)validation.Length / validationTokens.Length);
    }
}

/// <summary>The small GPT both Brown samples train (3 layers × 96 wide, context 64; 1 × 32 with --quick), on batches of 16 × 64 tokens.</summary>
internal static class BrownSetup
{
    /// <summary>The model, the training options and the run setup; <c>--layers</c> and <c>--channels</c> override the shape.</summary>
    public static PretrainingSetup SmallGpt(SampleArguments arguments, BrownCorpus corpus, long steps, int evaluationInterval, bool quick)
    {
        var model = new TransformerConfig(
            layerCount: arguments.Int("layers", quick ? 1 : 3),
            headCount: 4,
            channels: arguments.Int("channels", quick ? 32 : 96),
            contextLength: 64,
            vocabularySize: corpus.Encoding.VocabularySize);
        var training = new LanguageModelTrainingOptions
        {
            BatchSize = 16,
            SequenceLength = 64,
            Steps = steps,
            EvaluationInterval = evaluationInterval,
            EvaluationBatches = quick ? 2 : 8,
            Seed = 7,
        };
        return new PretrainingSetup(model, training) { ModelSeed = 11, FinalEvaluationBatches = quick ? 4 : 64 };
    }
}

/// <summary><c>--name value</c> arguments and a flag or two, with defaults; plus finding the repository's files.</summary>
internal sealed class SampleArguments
{
    private readonly Dictionary<string, string> values = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> flags = new(StringComparer.OrdinalIgnoreCase);

    public SampleArguments(string[] args)
    {
        for (var index = 0; index < args.Length; index++)
        {
            if (!args[index].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"Unexpected argument '{args[index]}'.");
            var name = args[index][2..];
            if (index + 1 < args.Length && !args[index + 1].StartsWith("--", StringComparison.Ordinal)) values[name] = args[++index];
            else flags.Add(name);
        }
    }

    public bool Has(string flag) => flags.Contains(flag);

    public int Int(string name, int fallback) => values.TryGetValue(name, out var text) ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

    public string Text(string name, string fallback) => values.TryGetValue(name, out var text) ? text : fallback;

    /// <summary>A comma-separated list of numbers, e.g. <c>--adamw 1e-3,3e-3</c>.</summary>
    public double[] Numbers(string name, double[] fallback) => values.TryGetValue(name, out var text)
        ? text.Split(',').Select(item => double.Parse(item, CultureInfo.InvariantCulture)).ToArray()
        : fallback;

    /// <summary>Finds <paramref name="relativePath"/> under the current directory or one of its parents (so the sample runs from anywhere in the repository).</summary>
    public static string FindRepositoryPath(string relativePath)
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                var candidate = Path.Combine(directory.FullName, relativePath);
                if (Directory.Exists(candidate) || File.Exists(candidate)) return candidate;
            }
        }

        throw new DirectoryNotFoundException($"Cannot find '{relativePath}' above the current directory; run the sample from inside the repository.");
    }
}
