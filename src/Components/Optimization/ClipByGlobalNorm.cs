using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Optimization;

/// <summary>Scales the updates down so that their global L2 norm is at most a maximum.</summary>
/// <remarks>
/// <c>n = sqrt(sum over the context's slices of u^2)</c>; if <c>n &gt; maxNorm</c>, <c>u &lt;- u * maxNorm / n</c>
/// (as PyTorch's <c>clip_grad_norm_</c> and optax's <c>clip_by_global_norm</c>). The squares are summed per slice
/// in float and across slices in double, in the slices' order: with several threads each thread sums whole slices, so
/// the norm has the same bits for any thread count. The pre-clip norm is recorded in <see cref="ClipByGlobalNormState.LastNorm"/>
/// so training can report it. A non-finite norm (a NaN or infinite gradient) is recorded and the updates are left
/// as they are: clipping cannot repair them, and the caller sees the norm and decides (usually: skip the step).
/// </remarks>
public sealed class ClipByGlobalNorm : IGradientTransform
{
    /// <summary>Creates the transform.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNorm"/> is not finite and positive.</exception>
    public ClipByGlobalNorm(double maxNorm) => MaxNorm = OptionGuard.Positive(maxNorm, nameof(maxNorm));

    /// <summary>The largest global norm let through.</summary>
    public double MaxNorm { get; }

    /// <inheritdoc />
    public TransformState Init(ParameterArena arena) => new ClipByGlobalNormState(MaxNorm);

    /// <inheritdoc />
    public unsafe void Update(Span<float> updates, ReadOnlySpan<float> parameters, TransformState state, in UpdateContext context)
    {
        var clipState = TransformGuard.StateAs<ClipByGlobalNormState>(state, nameof(ClipByGlobalNorm));
        TransformGuard.CheckBuffers(updates, parameters, context);
        fixed (float* updatesPointer = updates)
        {
            var norm = Math.Sqrt(SumOfSquares((nint)updatesPointer, context, clipState));
            clipState.LastNorm = norm;
            clipState.LastScale = 1;
            if (ScaleFor(norm) is not { } scale) return;

            clipState.LastScale = scale;
            ElementChunks.For(context, (Updates: (nint)updatesPointer, Scale: scale), static (in job, _, offset, length) =>
            {
                var update = new Span<float>((float*)job.Updates + offset, length);
                var done = Vector512.IsHardwareAccelerated ? Apply<Vector512Value>(0, update, job.Scale) : Apply<VectorValue>(0, update, job.Scale);
                Apply<FloatValue>(done, update, job.Scale);
            });
        }
    }

    /// <summary>
    /// The sum over the context's slices of each slice's float sum of squares, added in double in the slices' order. The slices
    /// are shared among the threads whole (chunk c takes those starting in the c-th equal share of the elements), each writes
    /// its slices' sums, and the caller adds them up: the same operations in the same order as one thread.
    /// </summary>
    private static unsafe double SumOfSquares(nint updates, in UpdateContext context, ClipByGlobalNormState clipState)
    {
        var slices = context.Parameters;
        var sums = clipState.SliceSums(slices.Count);
        Array.Clear(sums); // an empty slice at the very end is in no chunk; its sum is 0
        var total = ElementChunks.ElementCount(slices);
        var chunks = total > int.MaxValue ? 1 : (int)Math.Min(context.Parallelism.ThreadCount, total / ElementChunks.MinimumChunk);
        if (chunks <= 1) SumSlices(updates, slices, sums, 0, total);
        else
        {
            context.Parallelism.For(chunks, (Updates: updates, Slices: slices, Sums: sums, Total: total, Chunks: chunks), static (job, first, last) =>
            {
                var start = job.Total * first / job.Chunks;
                var end = job.Total * last / job.Chunks;
                SumSlices(job.Updates, job.Slices, job.Sums, start, end);
            });
        }

        double sumOfSquares = 0;
        for (var index = 0; index < slices.Count; index++) sumOfSquares += sums[index];
        return sumOfSquares;
    }

    /// <summary>Writes the sum of squares of each slice that starts at an element in [<paramref name="start"/>, <paramref name="end"/>) of the slices taken in order.</summary>
    private static unsafe void SumSlices(nint updates, IReadOnlyList<ParameterSlice> slices, double[] sums, long start, long end)
    {
        long sliceStart = 0;
        for (var index = 0; index < slices.Count && sliceStart < end; index++)
        {
            var slice = slices[index];
            if (sliceStart >= start) sums[index] = TensorPrimitives.SumOfSquares<float>(new ReadOnlySpan<float>((float*)updates + slice.Offset, slice.Length));
            sliceStart += slice.Length;
        }
    }

    /// <summary>The factor <c>maxNorm / norm</c> when a finite <paramref name="norm"/> exceeds <see cref="MaxNorm"/>; otherwise null (no clipping).</summary>
    internal float? ScaleFor(double norm) => double.IsFinite(norm) && norm > MaxNorm ? (float)(MaxNorm / norm) : null;

    /// <summary>The formula, for every backend: <c>u = u * scale</c>, the scale from <see cref="ScaleFor"/>.</summary>
    internal static T Formula<T>(T update, float scale) where T : IUpdateArithmetic<T> => update * scale;

    private static int Apply<TLanes>(int start, Span<float> update, float scale) where TLanes : ILanes<TLanes>
    {
        var element = start;
        for (; element <= update.Length - TLanes.Count; element += TLanes.Count) Formula(TLanes.Load(update, element), scale).Store(update, element);
        return element;
    }
}

/// <summary>The state of <see cref="ClipByGlobalNorm"/>: the last pre-clip norm, for reports.</summary>
public sealed class ClipByGlobalNormState : TransformState
{
    internal ClipByGlobalNormState(double maxNorm) => MaxNorm = maxNorm;

    /// <inheritdoc />
    public override string Kind => nameof(ClipByGlobalNorm);

    private double[] sliceSums = [];

    /// <summary>The clipping threshold (a hyperparameter; not stored in checkpoints).</summary>
    public double MaxNorm { get; }

    /// <summary>The global norm of the updates before clipping, at the last step (NaN before the first).</summary>
    public double LastNorm { get; internal set; } = double.NaN;

    /// <summary>The factor the updates were multiplied by at the last step (1 when not clipped).</summary>
    public double LastScale { get; internal set; } = 1;

    /// <summary>Whether the last step was clipped.</summary>
    public bool WasClipped => LastScale < 1;

    /// <summary>A scratch buffer of at least <paramref name="count"/> per-slice sums, kept so steady-state steps allocate nothing.</summary>
    internal double[] SliceSums(int count)
    {
        if (sliceSums.Length < count) sliceSums = new double[count];
        return sliceSums;
    }

    /// <inheritdoc />
    public override void Write(BinaryWriter writer)
    {
        WriteKind(writer);
        writer.Write(LastNorm);
        writer.Write(LastScale);
    }

    /// <inheritdoc />
    public override void Read(BinaryReader reader)
    {
        ReadKind(reader);
        LastNorm = reader.ReadDouble();
        LastScale = reader.ReadDouble();
    }
}
