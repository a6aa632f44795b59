using Pipelines.Components.Schedules;

namespace Pipelines;

/// <summary>
/// Learning-rate schedules for the training estimators' <c>LearningRateSchedule</c> option (<c>mlContext.Schedules()</c>):
/// pure functions of the step, validated when made.
/// </summary>
/// <remarks>
/// Warmup-Stable-Decay (MiniCPM, arXiv 2404.06395) and its WSD-S variant (arXiv 2410.05192); the loss law that predicts
/// a run's loss under any of them is <see cref="AnnealingLossLaw"/> (arXiv 2408.11029).
/// </remarks>
public static class SchedulesCatalogExtensions
{
    /// <summary>The same rate at every step.</summary>
    public static ISchedule Constant(this SchedulesCatalog catalog, double learningRate)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new ConstantSchedule(learningRate);
    }

    /// <summary>Linear warm-up, then a cosine to <paramref name="minRatio"/> × peak at <paramref name="totalSteps"/>.</summary>
    public static ISchedule Cosine(this SchedulesCatalog catalog, double peakLearningRate, long totalSteps, long warmupSteps = 0, double minRatio = 0)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new CosineSchedule(peakLearningRate, totalSteps, warmupSteps, minRatio);
    }

    /// <summary>
    /// Warm-up, a stable phase at the peak, and a decay over the last <paramref name="decayFraction"/> of
    /// <paramref name="totalSteps"/> in the given shape (linear, cosine, 1-sqrt, exponential, inverse) to
    /// <paramref name="minRatio"/> × peak. The exponential shape's half-life is <paramref name="halfLifeSteps"/>, by default a
    /// tenth of the decay (<see cref="PhaseLayout.DefaultHalfLifeSteps"/>).
    /// </summary>
    public static ISchedule WarmupStableDecay(this SchedulesCatalog catalog, double peakLearningRate, long totalSteps, double decayFraction = 0.2, long warmupSteps = 0,
        DecayShape decayShape = DecayShape.Linear, double minRatio = 0, long? halfLifeSteps = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new WarmupStableDecaySchedule(peakLearningRate, totalSteps, DecayLength.OfFraction(decayFraction), warmupSteps, decayShape, minRatio, halfLifeSteps);
    }

    /// <summary>A Warmup-Stable-Decay schedule from an explicit phase layout (open-ended, branched or changed on purpose).</summary>
    public static ISchedule WarmupStableDecay(this SchedulesCatalog catalog, double peakLearningRate, PhaseLayout layout)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new WarmupStableDecaySchedule(peakLearningRate, layout);
    }

    /// <summary>
    /// WSD-S: one main branch decaying at each budget T1 &lt; T2 &lt; ... over <paramref name="decayFraction"/> of the
    /// cycle, then resuming from the decayed weights at the peak (after an optional re-warm-up). The exponential shape
    /// needs <paramref name="halfLifeSteps"/> &gt;= 1.
    /// </summary>
    public static WsdsPlan WarmupStableDecaySimplified(this SchedulesCatalog catalog, double peakLearningRate, IReadOnlyList<long> budgets, double decayFraction = 0.1,
        long warmupSteps = 0, long rewarmupSteps = 0, DecayShape decayShape = DecayShape.Linear, double minRatio = 0, long halfLifeSteps = 0)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new WsdsPlan(peakLearningRate, budgets, decayFraction, warmupSteps, rewarmupSteps, decayShape, minRatio, halfLifeSteps);
    }
}
