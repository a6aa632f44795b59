using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Pipelines;
using Pipelines.Components.Models;
using Pipelines.Components.Privacy;
using Pipelines.Components.Schedules;
using Pipelines.Components.Training;
using Pipelines.FineTuning;
using Pipelines.Lora;

namespace PrivateFineTune;

/// <summary>How a run is privatised.</summary>
internal enum Method
{
    /// <summary>Ordinary fine-tuning (shuffled batches, no clipping, no noise).</summary>
    NonPrivate,

    /// <summary>DP-SGD with the noise calibrated for the run and fixed clipping.</summary>
    DpSgd,

    /// <summary>DP-SGD whose per-layer clipping norms and noise an RLDP hyper-policy sets.</summary>
    Rldp,
}

/// <summary>One row of <c>results.csv</c>.</summary>
internal sealed record RunResult(
    string Method, double TargetEpsilon, int Seed, double Epsilon, double Delta, double NoiseMultiplier, long Steps, bool StoppedByBudget,
    double Accuracy, double LogLoss, double MembershipAuc, double TrainingSeconds, string Adaptation, bool Pretrained);

/// <summary>The spam data as the runs use it: tokenised once, split into members, a reward set and a test set.</summary>
/// <param name="Context">The context the data were loaded in.</param>
/// <param name="Training">The private training messages (the attack's members).</param>
/// <param name="TrainingLabels">Their labels as text, in order.</param>
/// <param name="Reward">Held-out messages the estimator validates on (RLDP's reward); neither trained on nor tested on.</param>
/// <param name="Test">Held-out messages for accuracy and as the attack's non-members.</param>
/// <param name="TestLabels">Their labels as text, in order.</param>
/// <param name="Tokenizer">The byte-pair encoding the messages were tokenized with (the pre-training text is tokenized with it too).</param>
internal sealed record SpamSplits(MLContext Context, IDataView Training, string[] TrainingLabels, IDataView Reward, IDataView Test, string[] TestLabels,
    ITransformer Tokenizer);

/// <summary>Fine-tunes the encoder once under one privacy setting and measures accuracy and membership leakage.</summary>
internal static class PrivateRun
{
    public static RunResult Run(SpamSplits data, ExperimentSettings settings, Method method, Adaptation adaptation, double targetEpsilon, int seed,
        string? pretrainedWeightsPath, IProgress<TrainingProgress> progress, CancellationToken cancellationToken)
    {
        var privacy = method == Method.NonPrivate ? null : new DifferentialPrivacy(targetEpsilon)
        {
            Delta = settings.Delta,
            ClipNorm = settings.ClipNorm,
            Clipping = method == Method.Rldp ? ClippingLayout.PerLayer : ClippingLayout.Flat,
            Controller = method == Method.Rldp ? new RldpController { Interval = settings.RldpInterval } : PrivacyController.Fixed,
        };
        var options = new TextClassificationOptions
        {
            Model = new TransformerConfig(settings.Layers, settings.Heads, settings.Channels, settings.MaximumSequenceLength),
            MaximumSequenceLength = settings.MaximumSequenceLength,
            BatchSize = settings.BatchSize,
            Steps = settings.Steps,
            LearningRateSchedule = steps => new CosineSchedule(settings.LearningRate, steps, warmupSteps: steps / 10),
            Seed = seed,
            ThreadCount = settings.Threads,
            ValidationSet = data.Reward,
            Privacy = privacy,
            PretrainedWeightsPath = pretrainedWeightsPath,
            Adaptation = adaptation == Adaptation.Lora ? FineTuningAdaptation.LoraEverywhere(settings.LoraRank, settings.LoraAlpha) : FineTuningAdaptation.Full,
            Progress = progress,
            CancellationToken = cancellationToken,
        };
        var clock = Stopwatch.StartNew();
        var classifier = data.Context.MulticlassClassification.Trainers.TextClassifier(options).Fit(data.Training);
        var seconds = clock.Elapsed.TotalSeconds;

        var metrics = data.Context.MulticlassClassification.Evaluate(classifier.Transform(data.Test), "Label", "Score", "PredictedLabel");
        var memberLosses = Losses(data.Context, classifier, data.Training, data.TrainingLabels);
        var nonMemberLosses = Losses(data.Context, classifier, data.Test, data.TestLabels);
        var guarantee = classifier.Privacy;
        return new RunResult(method.ToString(), privacy is null ? double.NaN : targetEpsilon, seed, guarantee?.Epsilon ?? double.PositiveInfinity,
            guarantee?.Delta ?? double.NaN, guarantee?.NoiseMultiplier ?? 0, classifier.TrainingResult?.Steps ?? 0, guarantee?.StoppedByBudget ?? false,
            metrics.MicroAccuracy, metrics.LogLoss, MembershipInference.LossThresholdAuc(memberLosses, nonMemberLosses), seconds,
            adaptation.ToString(), pretrainedWeightsPath is not null);
    }

    /// <summary>Each row's cross-entropy <c>-ln p[label]</c> under the classifier.</summary>
    private static double[] Losses(MLContext context, TextClassificationTransformer classifier, IDataView data, string[] labels)
    {
        var names = classifier.ClassNames ?? throw new InvalidOperationException("The label column has no key values.");
        var scores = context.Data.CreateEnumerable<ScoreRow>(classifier.Transform(data), reuseRowObject: false).Select(row => row.Score).ToArray();
        return [.. scores.Select((score, row) => -Math.Log(Math.Max(score[IndexOf(names, labels[row])], 1e-30)))];
    }

    private static int IndexOf(IReadOnlyList<string> names, string label)
    {
        for (var index = 0; index < names.Count; index++) if (names[index] == label) return index;
        throw new InvalidOperationException($"Label '{label}' is not one of the classifier's classes.");
    }

    private sealed class ScoreRow
    {
        public float[] Score { get; set; } = [];
    }
}
