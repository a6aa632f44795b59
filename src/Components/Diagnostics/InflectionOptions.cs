using Pipelines.Components.Lora;

namespace Pipelines.Components.Diagnostics;

/// <summary>How <see cref="InflectionLayerFinder"/> ranks the backward-signal slope.</summary>
public enum InflectionSelection
{
    /// <summary>The <see cref="InflectionOptions.LayerCount"/> layers with the largest slope.</summary>
    TopCount,
    /// <summary>Every layer whose slope exceeds the mean slope plus one standard deviation.</summary>
    AboveMeanPlusDeviation,
}

/// <summary>Options of <see cref="InflectionLayerFinder"/> and of the plan it emits; validated on construction.</summary>
/// <remarks>Defaults: the LoRA paper's rank 8 and alpha 16 (arXiv 2106.09685), all four projections, two layers.</remarks>
public sealed record InflectionOptions
{
    private readonly int layerCount = 2;
    private readonly int rank = 8;
    private readonly double alpha = 16;
    private readonly double dropout;
    private readonly IReadOnlyList<LoraProjection> targets = LoraProjections.All;

    /// <summary>Top-k or above mean + 1 sd.</summary>
    public InflectionSelection Selection { get; init; } = InflectionSelection.TopCount;

    /// <summary>k for <see cref="InflectionSelection.TopCount"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Below 1.</exception>
    public int LayerCount { get => layerCount; init => layerCount = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(LayerCount), value, "At least 1."); }

    /// <summary>Add one neighbour each side of every chosen layer.</summary>
    public bool IncludeNeighbours { get; init; }

    /// <summary>Compare the normalised entropy (divided by log of the valid keys) with its median instead of the raw one.</summary>
    public bool UseNormalizedEntropy { get; init; }

    /// <summary>LoRA rank of the emitted plan.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Below 1.</exception>
    public int Rank { get => rank; init => rank = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Rank), value, "At least 1."); }

    /// <summary>LoRA alpha of the emitted plan.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not positive and finite.</exception>
    public double Alpha { get => alpha; init => alpha = value > 0 && double.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(nameof(Alpha), value, "Positive and finite."); }

    /// <summary>Adapter dropout of the emitted plan.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Outside [0, 1).</exception>
    public double Dropout { get => dropout; init => dropout = value >= 0 && value < 1 ? value : throw new ArgumentOutOfRangeException(nameof(Dropout), value, "In [0, 1)."); }

    /// <summary>Use rsLoRA scaling in the emitted plan.</summary>
    public bool UseRsLora { get; init; }

    /// <summary>Projections to adapt in every chosen layer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Empty.</exception>
    public IReadOnlyList<LoraProjection> Targets { get => targets; init => targets = value is { Count: > 0 } ? value : throw new ArgumentOutOfRangeException(nameof(Targets), value?.Count ?? 0, "At least one projection."); }
}
