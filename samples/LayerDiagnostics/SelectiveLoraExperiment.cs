using System.Diagnostics;
using Microsoft.ML;
using Pipelines;
using Pipelines.Components.Backends;
using Pipelines.Components.Lora;
using Pipelines.Components.Schedules;
using Pipelines.FineTuning;
using Pipelines.Lora;

namespace LayerDiagnostics;

/// <summary>One target fine-tuning run of the comparison.</summary>
/// <param name="Source">under-trained or over-trained.</param>
/// <param name="Method">selective LoRA, LoRA everywhere, or full fine-tuning.</param>
/// <param name="Seed">The run's seed (weights of the new head and adapters, batches).</param>
/// <param name="Accuracy">Spam validation accuracy (ML.NET's evaluator).</param>
/// <param name="MacroF1">Spam validation macro-F1.</param>
/// <param name="LogLoss">Spam validation log-loss.</param>
/// <param name="TrainableParameters">Parameters the run updated (adapters and head, or every weight).</param>
/// <param name="Seconds">Wall-clock seconds of the Fit.</param>
/// <param name="AdaptedLayers">The layers that carried adapters ("all" for full fine-tuning).</param>
internal sealed record RunResult(string Source, string Method, int Seed, double Accuracy, double MacroF1, double LogLoss, long TrainableParameters, double Seconds, string AdaptedLayers);

/// <summary>
/// The comparison of arXiv 2511.00797 at small scale: for each source state, diagnose it on the spam data, then fine-tune on
/// spam with LoRA at the chosen layers, LoRA on every layer, and every weight, for each seed.
/// </summary>
internal sealed class SelectiveLoraExperiment(MLContext context, ExperimentSettings settings, SourceModels sources, string output, Display display)
{
    public const string Selective = "selective LoRA";
    public const string Everywhere = "LoRA everywhere";
    public const string Full = "full fine-tuning";

    /// <summary>Diagnoses <paramref name="source"/> on the spam training rows; writes its CSV and figure.</summary>
    public LayerDiagnosisTransformer Diagnose(SourceModel source, IDataView spamTrain, CancellationToken cancellationToken)
    {
        var diagnosis = context.Lora().Diagnose(new LayerDiagnosisOptions
        {
            SourceWeightsPath = source.WeightsPath, ComparisonWeightsPath = sources.PretrainedPath, Model = sources.Shape, MaximumSequenceLength = settings.SequenceLength,
            BatchSize = settings.BatchSize, BatchCount = 8, Seed = 1, ThreadCount = settings.Threads, CancellationToken = cancellationToken,
            Inflection = new() { LayerCount = settings.InflectionLayerCount, Rank = settings.LoraRank, Alpha = settings.LoraAlpha },
        }).Fit(spamTrain);
        var name = $"diagnosis-{source.Name}";
        LayerReport.WriteCsv(Path.Combine(output, name + ".csv"), diagnosis.Metrics, diagnosis.Inflection);
        LayerReport.WriteFigure(Path.Combine(output, name), $"{source.Name} source on spam (arXiv 2511.00797)", diagnosis.Metrics, diagnosis.Inflection);
        diagnosis.Plan.Save(Path.Combine(output, $"plan-{source.Name}.json"));
        display.Line($"Diagnosis of the {source.Name} source: inflection layers [{string.Join(", ", diagnosis.Inflection.InflectionLayers)}], " +
            $"adapting [{string.Join(", ", diagnosis.Inflection.Layers)}]; slopes d(l) = [{string.Join(", ", diagnosis.Inflection.Slopes.Select(slope => slope.ToString("F2")))}].");
        return diagnosis;
    }

    /// <summary>Every method and seed on one source.</summary>
    public IEnumerable<RunResult> Compare(SourceModel source, LoraInjectionPlan plan, IDataView spamTrain, IDataView spamValidation, CancellationToken cancellationToken)
    {
        foreach (var seed in settings.Seeds)
        {
            yield return Run(source, Selective, FineTuningAdaptation.Lora(plan), seed, spamTrain, spamValidation, cancellationToken);
            yield return Run(source, Everywhere, FineTuningAdaptation.LoraEverywhere(settings.LoraRank, settings.LoraAlpha), seed, spamTrain, spamValidation, cancellationToken);
            yield return Run(source, Full, FineTuningAdaptation.Full, seed, spamTrain, spamValidation, cancellationToken);
        }
    }

    private RunResult Run(SourceModel source, string method, FineTuningAdaptation adaptation, int seed, IDataView train, IDataView validation, CancellationToken cancellationToken)
    {
        var rate = adaptation == FineTuningAdaptation.Full ? settings.FullLearningRate : settings.LoraLearningRate;
        var clock = Stopwatch.StartNew();
        var classifier = display.Train($"{source.Name}, {method}, seed {seed}", settings.TargetSteps, progress => context.MulticlassClassification.Trainers.TextClassifier(new TextClassificationOptions
        {
            Model = sources.Shape, MaximumSequenceLength = settings.SequenceLength, BatchSize = settings.BatchSize, Steps = settings.TargetSteps,
            LearningRateSchedule = total => new CosineSchedule(rate, total, warmupSteps: total / 10),
            PretrainedWeightsPath = source.WeightsPath, Adaptation = adaptation, ThreadCount = settings.Threads, Seed = seed,
            Progress = progress, CancellationToken = cancellationToken,
        }).Fit(train));
        var seconds = clock.Elapsed.TotalSeconds;
        var metrics = context.MulticlassClassification.Evaluate(classifier.Transform(validation));
        var model = (ManagedClassifier)classifier.Model;
        var head = (long)classifier.ClassCount * (sources.Shape.Channels + 1);
        var trainable = model.Adapter is { } adapter ? adapter.Parameters.ParameterCount + head : model.ParameterCount;
        var layers = model.Adapter is { } used ? string.Join(" ", used.Plan.Layers.Select(entry => entry.Layer)) : "all";
        return new RunResult(source.Name, method, seed, metrics.MicroAccuracy, metrics.MacroF1(), metrics.LogLoss, trainable, seconds, layers);
    }
}
