using Pipelines.Components.Lora;
using Pipelines.Components.Models;

namespace Pipelines.Lora;

/// <summary>
/// Which weights a fine-tuning run changes (<see cref="FineTuning.TextClassificationOptions.Adaptation"/>): every weight
/// (<see cref="Full"/>), LoRA adapters where an injection plan says (<see cref="Lora"/>), or LoRA adapters on every layer
/// (<see cref="LoraEverywhere"/>). With LoRA the encoder is frozen and only the adapters and the classification head train.
/// </summary>
/// <remarks>
/// LoRA (Hu et al., arXiv 2106.09685): every adapted projection computes <c>h = W0 x + (alpha/r) · B A x</c> (alpha/√r with
/// rsLoRA, arXiv 2312.03732), A [r, in] Kaiming-uniform, B [out, r] = 0, W0 frozen. After training the adapter is merged into
/// the weights (<c>W = W0 + scale · B A</c>), so the fitted transformer predicts, saves and loads as a plain encoder; the
/// trained adapter stays available as <c>((ManagedClassifier)transformer.Model).Adapter</c> (save it in PEFT's files with
/// <see cref="LoraAdapterFiles"/>). Choosing the layers by diagnosis first: arXiv 2511.00797 (<c>mlContext.Lora().Selective</c>).
/// The managed backend trains LoRA; the TorchSharp backend refuses it, naming the managed one.
/// </remarks>
public abstract record FineTuningAdaptation
{
    private protected FineTuningAdaptation()
    {
    }

    /// <summary>Full fine-tuning: every weight trains (the default).</summary>
    public static FineTuningAdaptation Full { get; } = new FullFineTuning();

    /// <summary>LoRA adapters as <paramref name="plan"/> says (layer → rank, alpha, target projections); checked against the model when fitting.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="plan"/> is null.</exception>
    public static FineTuningAdaptation Lora(LoraInjectionPlan plan) => new LoraAdaptation(plan ?? throw new ArgumentNullException(nameof(plan)));

    /// <summary>LoRA adapters of one rank and alpha on <paramref name="targets"/> (default all four projections) of every layer.</summary>
    /// <param name="rank">r, at least 1 (and at most the projections' smaller dimension, checked when fitting).</param>
    /// <param name="alpha">alpha, positive: the update is scaled by alpha/r.</param>
    /// <param name="targets">The projections to adapt (null = <see cref="LoraProjections.All"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rank"/> is below 1, <paramref name="alpha"/> is not positive and finite, or <paramref name="targets"/> is empty.</exception>
    public static FineTuningAdaptation LoraEverywhere(int rank = 8, double alpha = 16, IReadOnlyList<LoraProjection>? targets = null)
    {
        if (rank < 1) throw new ArgumentOutOfRangeException(nameof(rank), rank, $"The LoRA rank cannot be {rank}: it must be at least 1.");
        if (!(alpha > 0) || !double.IsFinite(alpha)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, $"The LoRA alpha cannot be {alpha}: it must be positive and finite.");
        var list = targets ?? LoraProjections.All;
        if (list.Count == 0) throw new ArgumentOutOfRangeException(nameof(targets), 0, "At least one target projection.");
        return new LoraEverywhereAdaptation(rank, alpha, list.ToArray());
    }

    /// <summary>The injection plan for a model of shape <paramref name="config"/>, validated against it; null for full fine-tuning.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The plan names a layer the model lacks or a rank outside [1, width] (the value is named).</exception>
    /// <exception cref="ArgumentException">The plan repeats a layer or target, or lists none.</exception>
    public LoraInjectionPlan? PlanFor(TransformerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var plan = CreatePlan(config);
        plan?.Validate(config);
        return plan;
    }

    private protected abstract LoraInjectionPlan? CreatePlan(TransformerConfig config);

    private sealed record FullFineTuning : FineTuningAdaptation
    {
        private protected override LoraInjectionPlan? CreatePlan(TransformerConfig config) => null;

        public override string ToString() => "full fine-tuning";
    }

    private sealed record LoraAdaptation(LoraInjectionPlan Plan) : FineTuningAdaptation
    {
        private protected override LoraInjectionPlan? CreatePlan(TransformerConfig config) => Plan;

        public override string ToString() => $"LoRA on layers {string.Join(", ", Plan.Layers.Select(entry => entry.Layer))}";
    }

    private sealed record LoraEverywhereAdaptation(int Rank, double Alpha, IReadOnlyList<LoraProjection> Targets) : FineTuningAdaptation
    {
        private protected override LoraInjectionPlan? CreatePlan(TransformerConfig config) =>
            LoraInjectionPlan.Uniform(Enumerable.Range(0, config.LayerCount), Rank, Alpha, Targets);

        public override string ToString() => $"LoRA everywhere (rank {Rank}, alpha {Alpha})";
    }
}
