namespace Pipelines.Components.Schedules;

/// <summary>How a warm-up rises from 0 to the peak over its <c>W</c> steps.</summary>
/// <remarks><c>lr(s) = peak * w(s / W)</c> for <c>s &lt; W</c> (arXiv 2404.06395).</remarks>
public enum WarmupShape
{
    /// <summary><c>w(x) = x</c>: 0 at step 0, the peak at step <c>W</c>.</summary>
    Linear,

    /// <summary><c>w(x) = 0.5 (1 - cos(pi x))</c>: a half cosine, flat at both ends.</summary>
    Cosine,
}

/// <summary>The shape of a decay from the peak towards <c>m * peak</c>, with <c>p = (s - T) / (S - T)</c>.</summary>
/// <remarks>
/// All but <see cref="Inverse"/> are <c>lr = peak * (m + (1 - m) * f(p))</c>
/// (arXiv 2404.06395 for WSD and the exponential shape, arXiv 2410.05192 for the inverse shape).
/// </remarks>
public enum DecayShape
{
    /// <summary><c>f(p) = 1 - p</c>.</summary>
    Linear,

    /// <summary><c>f(p) = 0.5 (1 + cos(pi p))</c>.</summary>
    Cosine,

    /// <summary><c>f(p) = 1 - sqrt(p)</c>.</summary>
    OneMinusSqrt,

    /// <summary>
    /// <c>f = 0.5^((s + 1 - T) / halfLife)</c> (MiniCPM). The shape itself never reaches <c>m</c>: the decay's last step
    /// runs at <c>m * peak</c> as for every shape, so choose the half-life small against the decay length; the default
    /// (<see cref="PhaseLayout.DefaultHalfLifeSteps"/>) is a tenth of it.
    /// </summary>
    Exponential,

    /// <summary>
    /// <c>lr = peak / ((1/m - 1) p + 1)</c> (Wen et al.), with <c>p</c> over the <em>decay</em> length so the rate
    /// reaches <c>m * peak</c> exactly at <c>S</c>. Needs <c>m &gt; 0</c>.
    /// </summary>
    Inverse,
}
