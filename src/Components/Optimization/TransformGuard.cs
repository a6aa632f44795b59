using Pipelines.Components.Schedules;

namespace Pipelines.Components.Optimization;

/// <summary>Cheap checks made at the entry of every transform, so bad input fails with a message, not deep in a loop.</summary>
internal static class TransformGuard
{
    /// <summary>The state cast to the type the transform made in Init.</summary>
    public static TState StateAs<TState>(TransformState state, string transform) where TState : TransformState
    {
        ArgumentNullException.ThrowIfNull(state);
        return state as TState
            ?? throw new ArgumentException($"{transform} was given a '{state.Kind}' state; pass the state its Init made.", nameof(state));
    }

    /// <summary>Checks the buffers match each other and every slice of the context lies inside them.</summary>
    public static void CheckBuffers(ReadOnlySpan<float> updates, ReadOnlySpan<float> parameters, in UpdateContext context)
    {
        if (updates.Length != parameters.Length)
            throw new ArgumentException($"The update buffer has {updates.Length} floats but the parameter buffer has {parameters.Length}.", nameof(updates));
        if (context.Step < 1)
            throw new ArgumentOutOfRangeException(nameof(context), context.Step, "UpdateContext.Step counts from 1.");
        ArgumentNullException.ThrowIfNull(context.Parameters, nameof(context));
        var slices = context.Parameters;
        for (var index = 0; index < slices.Count; index++)
        {
            var slice = slices[index];
            if ((long)slice.Offset + slice.Length > updates.Length)
                throw new ArgumentException($"Parameter '{slice.Name}' ends at {slice.Offset + slice.Length}, past the update buffer of {updates.Length} floats (a slice of another arena?).", nameof(updates));
        }
    }

    /// <summary>Checks a state buffer was made for an arena of this buffer length.</summary>
    public static void CheckStateLength(int stateLength, int updatesLength, string transform)
    {
        if (stateLength != updatesLength)
            throw new ArgumentException($"{transform}'s state was made for an arena of {stateLength} floats but the update buffer has {updatesLength}.", "state");
    }

    /// <summary>The schedule's rate for update <paramref name="step"/> (counting from 1), checked to be finite and non-negative.</summary>
    public static double LearningRateAt(ISchedule schedule, long step)
    {
        var rate = schedule.ValueAt(step - 1);
        if (!double.IsFinite(rate) || rate < 0)
            throw new InvalidOperationException($"The learning-rate schedule returned {rate} for step {step - 1}; a rate must be finite and non-negative.");
        return rate;
    }
}
