using Pipelines.Components.Models;

namespace Pipelines.Benchmarks;

/// <summary>The GPT and batch a benchmark times, read from <c>--layers --heads --dim --ctx --vocab --batch</c> over the benchmark's defaults.</summary>
/// <param name="Config">The model's shape.</param>
/// <param name="Batch">Sequences per step (B).</param>
internal sealed record BenchmarkModel(TransformerConfig Config, int Batch)
{
    /// <summary>Reads the shape options, each falling back to the given default (4 layers and 4 heads unless overridden).</summary>
    public static BenchmarkModel Read(string[] arguments, int width, int context, int vocabulary, int batch) => new(
        new TransformerConfig(
            TrainingBenchmark.Option(arguments, "--layers", 4),
            TrainingBenchmark.Option(arguments, "--heads", 4),
            TrainingBenchmark.Option(arguments, "--dim", width),
            TrainingBenchmark.Option(arguments, "--ctx", context),
            TrainingBenchmark.Option(arguments, "--vocab", vocabulary)),
        TrainingBenchmark.Option(arguments, "--batch", batch));

    /// <summary>B x T tokens of a batch as one line: layers, width, context, vocabulary, batch.</summary>
    public override string ToString() =>
        $"GPT {Config.LayerCount} layers, width {Config.Channels}, context {Config.ContextLength}, vocabulary {Config.VocabularySize}, batch {Batch}";
}
