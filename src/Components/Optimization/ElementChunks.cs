using Pipelines.Components.Compute;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Optimization;

/// <summary>
/// Runs an elementwise loop over the elements of a context's slices in parallel chunks: the elements of all the slices,
/// taken in order, are cut into at most one contiguous chunk per thread of <see cref="UpdateContext.Parallelism"/>, each
/// at least <see cref="MinimumChunk"/> long (so the small chains of tests and LoRA adapters run inline), and a chunk calls
/// the body once per piece of a slice it covers.
/// </summary>
/// <remarks>
/// An elementwise formula gives the same bits however the elements are cut (the vector and scalar lanes agree), so the
/// result does not depend on the thread count. The slices must not overlap (an arena's never do). Spans cannot cross
/// threads: a transform pins its buffers and passes pointers or arrays in the state.
/// </remarks>
internal static class ElementChunks
{
    /// <summary>The fewest elements worth handing to another thread (64 KiB of floats).</summary>
    public const int MinimumChunk = 16 * 1024;

    /// <summary>Processes elements [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="length"/>) of the buffers, all inside <paramref name="slice"/>.</summary>
    public delegate void PieceBody<TState>(in TState state, ParameterSlice slice, int offset, int length);

    /// <summary>Calls <paramref name="body"/> over pieces covering every element of <paramref name="context"/>'s slices exactly once.</summary>
    public static void For<TState>(in UpdateContext context, TState state, PieceBody<TState> body)
    {
        var slices = context.Parameters;
        var total = ElementCount(slices);
        if (total == 0) return;
        if (context.Parallelism.ThreadCount == 1 || total < 2L * MinimumChunk || total > int.MaxValue)
        {
            Run(slices, state, body, 0, total);
            return;
        }

        context.Parallelism.For((int)total, (Slices: slices, State: state, Body: body),
            static (job, start, end) => Run(job.Slices, job.State, job.Body, start, end), MinimumChunk);
    }

    /// <summary>The number of elements of <paramref name="slices"/>, padding excluded.</summary>
    public static long ElementCount(IReadOnlyList<ParameterSlice> slices)
    {
        long total = 0;
        for (var index = 0; index < slices.Count; index++) total += slices[index].Length;
        return total;
    }

    /// <summary>Runs the pieces of elements [<paramref name="start"/>, <paramref name="end"/>) of the slices taken in order.</summary>
    private static void Run<TState>(IReadOnlyList<ParameterSlice> slices, in TState state, PieceBody<TState> body, long start, long end)
    {
        long sliceStart = 0;
        for (var index = 0; index < slices.Count && sliceStart < end; index++)
        {
            var slice = slices[index];
            var sliceEnd = sliceStart + slice.Length;
            var from = Math.Max(start, sliceStart);
            var to = Math.Min(end, sliceEnd);
            if (from < to) body(state, slice, slice.Offset + (int)(from - sliceStart), (int)(to - from));
            sliceStart = sliceEnd;
        }
    }
}
