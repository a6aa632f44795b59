using Pipelines.Components.Models;
using Pipelines.Components.Text;
using Pipelines.Components.Training;
using Pipelines.Experiments;
using Spectre.Console;

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
        var directory = RepositoryPath.Find(Path.Combine("samples", "data", "brown"));
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
    /// <summary>The model, the training options and the run setup; <paramref name="layers"/> and <paramref name="channels"/> override the shape.</summary>
    public static PretrainingSetup SmallGpt(BrownCorpus corpus, long steps, int evaluationInterval, bool quick, int? layers, int? channels)
    {
        var model = new TransformerConfig(
            layerCount: layers ?? (quick ? 1 : 3),
            headCount: 4,
            channels: channels ?? (quick ? 32 : 96),
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

/// <summary>A Spectre.Console progress bar over an experiment's reports (plain lines when the console is not interactive).</summary>
internal static class ExperimentProgress
{
    /// <summary>Runs <paramref name="work"/> with a bar of <paramref name="total"/> units; each report advances it by one and prints <paramref name="describe"/>'s line.</summary>
    public static TResult Run<TReport, TResult>(string title, int total, Func<TReport, string> describe, Func<IProgress<TReport>, TResult> work)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
            return work(new InlineProgress<TReport>(report => AnsiConsole.MarkupLine(Markup.Escape(describe(report)))));
        return AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(display =>
            {
                var task = display.AddTask(Markup.Escape(title), maxValue: total);
                return work(new InlineProgress<TReport>(report =>
                {
                    AnsiConsole.MarkupLine(Markup.Escape(describe(report)));
                    task.Increment(1);
                }));
            });
    }

    /// <summary>Calls the handler on the reporting thread, in order (<see cref="Progress{T}"/> would post to the thread pool).</summary>
    private sealed class InlineProgress<TReport>(Action<TReport> handler) : IProgress<TReport>
    {
        private readonly Lock gate = new();

        public void Report(TReport value)
        {
            lock (gate) handler(value);
        }
    }
}

/// <summary>Ctrl+C as a <see cref="CancellationToken"/>: the first press asks the experiment to stop.</summary>
internal static class ConsoleCancellation
{
    /// <summary>Runs <paramref name="body"/> with a token that Ctrl+C cancels; a cancelled run prints so and exits with 130.</summary>
    public static int Run(Func<CancellationToken, int> body)
    {
        using var cancellation = new CancellationTokenSource();
        Console.CancelKeyPress += (_, eventArgs) =>
        {
            eventArgs.Cancel = true;
            cancellation.Cancel();
        };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            return body(cancellation.Token);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            Console.WriteLine($"Cancelled after {clock.Elapsed.TotalSeconds:F0} s.");
            return 130;
        }
    }
}
