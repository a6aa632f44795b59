using Microsoft.ML;
using Microsoft.ML.Data;
using Pipelines;
using Pipelines.Components.Models;
using Pipelines.Pretraining;
using Pipelines.Sparsity;

namespace SparsePretraining;

/// <summary>One brown document: the row type of the estimator run's data views.</summary>
internal sealed class Document
{
    public string Text { get; set; } = "";
}

/// <summary>
/// Sparse pre-training as an application would use it: one ML.NET chain, a BPE tokenizer then
/// <c>mlContext.Sparsity().SparsePretraining(...)</c>, fitted on Brown with a validation set, saved and reloaded.
/// </summary>
internal static class EstimatorRun
{
    public static void Run(SampleOptions options, string data, string output, CancellationToken cancellationToken)
    {
        var context = new MLContext(seed: (int)options.Seed);
        var train = Load(context, Path.Combine(data, "train.txt"));
        var validation = Load(context, Path.Combine(data, "validation.txt"));
        var denseSize = SparsePretrainingExperimentSize(options);
        var pretraining = new CausalLanguageModelOptions
        {
            Model = new TransformerConfig(options.SparseLayers, options.Heads, options.Channels, options.SequenceLength),
            BatchSize = options.BatchSize,
            Steps = options.EstimatorSteps,
            LearningRate = options.LearningRate,
            EvaluationInterval = options.EvaluationInterval,
            EvaluationBatches = options.EvaluationBatches,
            ThreadCount = options.Threads,
            ValidationSet = validation,
            CancellationToken = cancellationToken,
        };
        var sparse = new SparsePretrainingOptions(pretraining)
        {
            TargetAverageParameterCount = denseSize,
            PruningInterval = Math.Max(1, options.EstimatorSteps / 50),
            Progress = new EveryTenth(options.EstimatorSteps),
        };
        Console.WriteLine($"\nEstimator: TrainBytePairEncoding({options.VocabularySize}) then SparsePretraining of L{options.SparseLayers} C{options.Channels} " +
            $"to the Nbar of dense L{options.DenseLayers} ({denseSize:N0}), {options.EstimatorSteps} steps.");
        var model = context.Transforms.Text.TrainBytePairEncoding(vocabularySize: options.VocabularySize)
            .Append(context.Sparsity().SparsePretraining(sparse))
            .Fit(train);

        Console.WriteLine(model.LastTransformer.FormatReport());
        var metrics = model.Evaluate(validation, cancellationToken);
        Console.WriteLine($"Validation: {metrics.Loss:F4} nats/token, {metrics.BitsPerByte:F3} bits/byte (rows are documents: this tokenizer learns no merge across them).");
        var path = Path.Combine(output, "estimator-model.zip");
        context.Model.Save(model, train.Schema, path);
        var reloaded = (TransformerChain<ITransformer>)new MLContext(seed: 1).Model.LoadModel(path, out _);
        var same = reloaded.Evaluate(validation, cancellationToken) == metrics;
        Console.WriteLine($"Saved {path} (weights, masks, history, N(t)); reloaded as {reloaded.Last().GetType().Name}: {(same ? "same validation metrics" : "DIFFERENT metrics")}.");
    }

    /// <summary>The dense comparison model's parameter count: the Nbar the estimator run is matched to.</summary>
    private static long SparsePretrainingExperimentSize(SampleOptions options) =>
        Pipelines.Experiments.SparsePretrainingExperiment.CountParameters(
            new TransformerConfig(options.DenseLayers, options.Heads, options.Channels, options.SequenceLength, options.VocabularySize)).Total;

    private static IDataView Load(MLContext context, string path) =>
        context.Data.LoadFromEnumerable(File.ReadAllText(path).Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(text => new Document { Text = text }).ToArray());

    /// <summary>Prints about ten reports of the run, on the training thread.</summary>
    private sealed class EveryTenth(long steps) : IProgress<SparseTrainingProgress>
    {
        public void Report(SparseTrainingProgress value)
        {
            var training = value.Training;
            if (training.Step % Math.Max(1, steps / 10) != 0 && training.Step != steps) return;
            Console.WriteLine($"  [estimator] step {training.Step}/{training.TotalSteps} loss {training.Loss:F3}" +
                (training.ValidationLoss is { } loss ? $" val {loss:F3}" : "") + $" sparsity {value.PrunableSparsity:P1} Nbar {value.AverageParameterCount:N0} {training.Elapsed.TotalSeconds:F0} s");
        }
    }
}
