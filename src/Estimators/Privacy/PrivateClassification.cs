using Pipelines.Components.Backends;
using Pipelines.Components.Privacy;
using Pipelines.Components.Training;

namespace Pipelines.Privacy;

/// <summary>Routes a classifier's fine-tuning through DP-SGD when the options ask for privacy (<c>TextClassificationOptions.Privacy</c>).</summary>
/// <remarks>
/// DP-SGD (Abadi et al. 2016, arXiv 1607.00133) with the RDP accountant (Mironov 2017, arXiv 1702.07476) runs on the
/// managed engine, whose encoder gives per-example gradient norms in batched passes
/// (<see cref="PrivateClassifierTrainer"/>); other backends are refused by name. With a LoRA adaptation the adapter's A
/// and B train privately beside the head (private LoRA, the setting of RLDP, arXiv 2507.22565).
/// </remarks>
internal static class PrivateClassification
{
    /// <summary>Trains <paramref name="model"/> on <paramref name="run"/>, privately when <paramref name="privacy"/> is set; returns the result and the guarantee (null when not private).</summary>
    /// <exception cref="NotSupportedException">Privacy on a backend other than the managed engine.</exception>
    /// <exception cref="ArgumentException">Privacy with per-example loss weights or training hooks.</exception>
    public static (ClassifierTrainingResult Result, PrivacyGuarantee? Privacy) Train(IBackendClassifier model, DifferentialPrivacy? privacy, ClassifierTrainingRun run)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(run);
        if (privacy is null) return (model.Train(run), null);
        if (model is not ManagedClassifier managed)
            throw new NotSupportedException(
                $"Differentially private fine-tuning (the option Privacy) runs on the managed backend only; the {model.Backend.Name} backend has no per-example " +
                "gradient norms. Leave Backend null to train on the managed engine.");
        if (run.ExampleWeights is not null)
            throw new ArgumentException(
                "The options ExampleWeights and Privacy cannot be combined: DP-SGD clips each example's own unweighted gradient (its sensitivity is the clip norm).",
                nameof(run));
        var result = managed.TrainPrivately(run, privacy);
        return (result.Training, result.Privacy);
    }
}
