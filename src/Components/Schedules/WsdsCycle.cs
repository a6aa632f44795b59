namespace Pipelines.Components.Schedules;

/// <summary>One cycle of a <see cref="WsdsPlan"/>: its warm-up (or re-warm-up), stable part and decay, as steps.</summary>
/// <param name="Index">The cycle's index, from 0.</param>
/// <param name="Start">The cycle's first step: 0, or the previous budget, where the main branch resumes from the decayed checkpoint.</param>
/// <param name="WarmupEnd">The first step of the stable part (equal to <paramref name="Start"/> without a (re-)warm-up; the step before it already runs at the peak).</param>
/// <param name="DecayStart">The step where the stable part ends and the decay starts (the first step below the peak).</param>
/// <param name="DecayEnd">The cycle's budget: step <c>DecayEnd - 1</c> runs at the floor, and the model after this many updates is the decayed checkpoint.</param>
/// <param name="ResumeStep">The step where the next cycle resumes from the decayed checkpoint at the peak; null for the last cycle.</param>
public sealed record WsdsCycle(int Index, long Start, long WarmupEnd, long DecayStart, long DecayEnd, long? ResumeStep)
{
    /// <summary>The decay's length in steps.</summary>
    public long DecaySteps => DecayEnd - DecayStart;

    /// <summary>The step count after which a decayed model is saved (the cycle's budget).</summary>
    public long DecayedCheckpointStep => DecayEnd;
}
