using Pipelines.Components.Schedules;

namespace Pipelines.Components.Optimization;

/// <summary>A state whose transform scales by a learning rate; the optimizer reads its schedule for reports.</summary>
public interface ILearningRateState
{
    /// <summary>The schedule (step 0 is the first update, so update <c>s</c> uses <c>ValueAt(s - 1)</c>).</summary>
    ISchedule LearningRate { get; }

    /// <summary>The rate used by the last update (0 before the first).</summary>
    double LastLearningRate { get; }
}
