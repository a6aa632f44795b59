namespace Pipelines.Components.Reporting;

/// <summary>How values map to positions along a chart axis or a colour scale.</summary>
public enum AxisScale
{
    /// <summary>Equal differences take equal space.</summary>
    Linear,
    /// <summary>Equal ratios take equal space (base 10); every value must be positive.</summary>
    Logarithmic,
}
