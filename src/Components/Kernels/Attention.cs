using Pipelines.Components.Compute;

namespace Pipelines.Components.Kernels;

/// <summary>
/// Multi-head scaled dot-product attention over the output of a fused q, k, v projection, forward beside
/// backward. B = batch size, T = tokens per sequence, C = channels, H = heads, hs = C / H.
/// </summary>
/// <remarks>
/// For batch b, head h and query i (Vaswani et al., arXiv 1706.03762):
/// <c>S[i,j] = q_i · k_j / √hs</c>, <c>P[i,·] = softmax over the keys j visible to i</c>,
/// <c>y_i = Σ_j P[i,j] v_j</c>, where q_i, k_j, v_j are channels h·hs .. (h+1)·hs − 1 of the query, key and
/// value thirds of the qkv row (PyTorch's <c>q, k, v = x.split(C, 2)</c> followed by
/// <c>view(B, T, H, hs).transpose(1, 2)</c>); the heads are concatenated back into the output row.
/// Key j is visible to query i when <c>keyMask[b,j] = 1</c> and, if causal, <c>j ≤ i</c>; every other
/// probability is exactly 0, which backward relies on (it takes no mask). Padding queries are not special:
/// they attend to the visible keys like any other query, and callers ignore their outputs. With a causal mask
/// query 0 sees only key 0, so padding must be on the right (key 0 valid) or forward throws.
/// </remarks>
public static partial class Attention
{
    /// <summary>Scratch length (floats) up to which per-thread scratch lives on the stack rather than in the array pool.</summary>
    private const int StackScratchLimit = 4096;

    /// <summary>Queries per block of the small matrix products (forward and backward): long enough for Gemm's
    /// micro-kernel, short enough that a causal block skips a good share of the future keys.</summary>
    private const int QueryBlockRows = 64;

    /// <summary>Computes the attention output and the attention probabilities.</summary>
    /// <param name="qkv">Fused projection [B, T, 3C]: queries, then keys, then values; head h at channels h·hs.. of each.</param>
    /// <param name="keyMask">[B, T]: 1 for a valid key, 0 for padding; empty means every key is valid.</param>
    /// <param name="output">[B, T, C]: the heads' outputs, concatenated; overwritten.</param>
    /// <param name="probabilities">[B, H, T, T]: the softmax of each query row, 0 on masked and future keys; overwritten.</param>
    /// <param name="batchSize">B.</param>
    /// <param name="tokenCount">T.</param>
    /// <param name="channels">C, divisible by <paramref name="headCount"/>.</param>
    /// <param name="headCount">H.</param>
    /// <param name="causal">Whether query i sees only keys j ≤ i.</param>
    /// <param name="parallelism">Threads to use; work is split over (batch, head) pairs.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, or a mask value is neither 0 nor 1.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="channels"/> is not divisible by <paramref name="headCount"/>, a span has the wrong length,
    /// or some query has no visible key (the softmax would be 0/0).
    /// </exception>
    public static unsafe void Forward(ReadOnlySpan<float> qkv, ReadOnlySpan<byte> keyMask, Span<float> output, Span<float> probabilities,
        int batchSize, int tokenCount, int channels, int headCount, bool causal, Parallelism parallelism)
    {
        ValidateForward(qkv, keyMask, output, probabilities, batchSize, tokenCount, channels, headCount, causal);
        var shape = new AttentionShape(batchSize, tokenCount, channels, headCount);
        fixed (float* qkvPointer = qkv)
        fixed (byte* maskPointer = keyMask)
        fixed (float* outputPointer = output)
        fixed (float* probabilitiesPointer = probabilities)
        {
            // Spans cannot cross threads; the buffers stay pinned until For returns.
            var buffers = new ForwardBuffers(qkvPointer, qkv.Length, maskPointer, keyMask.Length, outputPointer, output.Length,
                probabilitiesPointer, probabilities.Length, shape, causal);
            parallelism.For(batchSize * headCount, buffers, static (state, start, end) => ForwardPairs(
                new ReadOnlySpan<float>(state.Qkv, state.QkvLength), new ReadOnlySpan<byte>(state.KeyMask, state.KeyMaskLength),
                new Span<float>(state.Output, state.OutputLength), new Span<float>(state.Probabilities, state.ProbabilitiesLength),
                start, end, state.Shape, state.Causal));
        }
    }

    /// <summary>Accumulates the gradient of the fused qkv input from the output gradient and the forward probabilities.</summary>
    /// <remarks>
    /// With dP[i,j] = dy_i · v_j and dS[i,j] = P[i,j] (dP[i,j] − Σ_k P[i,k] dP[i,k]):
    /// dv_j += Σ_i P[i,j] dy_i, dq_i += Σ_j dS[i,j] k_j / √hs, dk_j += Σ_i dS[i,j] q_i / √hs.
    /// Keys whose probability is 0 contribute nothing, so masking and causality come from
    /// <paramref name="probabilities"/> alone.
    /// </remarks>
    /// <param name="outputGradient">[B, T, C]: gradient of the loss with respect to the forward output.</param>
    /// <param name="qkv">[B, T, 3C]: the forward input.</param>
    /// <param name="probabilities">[B, H, T, T]: as written by <see cref="Forward"/>.</param>
    /// <param name="qkvGradient">[B, T, 3C]: accumulated into (+=); empty to skip.</param>
    /// <param name="batchSize">B.</param>
    /// <param name="tokenCount">T.</param>
    /// <param name="channels">C, divisible by <paramref name="headCount"/>.</param>
    /// <param name="headCount">H.</param>
    /// <param name="parallelism">Threads to use; work is split over (batch, head) pairs.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="channels"/> is not divisible by <paramref name="headCount"/>, or a span has the wrong length.</exception>
    public static void Backward(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> qkv, ReadOnlySpan<float> probabilities,
        Span<float> qkvGradient, int batchSize, int tokenCount, int channels, int headCount, Parallelism parallelism) =>
        Backward(outputGradient, qkv, probabilities, qkvGradient, batchSize, tokenCount, channels, headCount, parallelism, overwrite: false);

    /// <summary>
    /// As the public <c>Backward</c>, but with <paramref name="overwrite"/> each (batch, head) pair first clears its own
    /// q, k and v columns of <paramref name="qkvGradient"/> and then accumulates as usual: the same bits as clearing the
    /// whole buffer first, with the clearing split between the threads and done just before the writes.
    /// </summary>
    internal static unsafe void Backward(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> qkv, ReadOnlySpan<float> probabilities,
        Span<float> qkvGradient, int batchSize, int tokenCount, int channels, int headCount, Parallelism parallelism, bool overwrite)
    {
        ValidateBackward(outputGradient, qkv, probabilities, qkvGradient, batchSize, tokenCount, channels, headCount);
        if (qkvGradient.IsEmpty) return;
        var shape = new AttentionShape(batchSize, tokenCount, channels, headCount);
        fixed (float* outputGradientPointer = outputGradient)
        fixed (float* qkvPointer = qkv)
        fixed (float* probabilitiesPointer = probabilities)
        fixed (float* qkvGradientPointer = qkvGradient)
        {
            var buffers = new BackwardBuffers(outputGradientPointer, outputGradient.Length, qkvPointer, qkvGradientPointer, qkv.Length,
                probabilitiesPointer, probabilities.Length, shape, overwrite);
            parallelism.For(batchSize * headCount, buffers, static (state, start, end) => BackwardPairs(
                new ReadOnlySpan<float>(state.OutputGradient, state.OutputGradientLength), new ReadOnlySpan<float>(state.Qkv, state.QkvLength),
                new ReadOnlySpan<float>(state.Probabilities, state.ProbabilitiesLength), new Span<float>(state.QkvGradient, state.QkvLength),
                start, end, state.Shape, state.Overwrite));
        }
    }

    /// <summary>Forward's pinned buffers, for the worker threads.</summary>
    private readonly unsafe struct ForwardBuffers(float* qkv, int qkvLength, byte* keyMask, int keyMaskLength, float* output, int outputLength,
        float* probabilities, int probabilitiesLength, AttentionShape shape, bool causal)
    {
        public readonly float* Qkv = qkv;
        public readonly int QkvLength = qkvLength;
        public readonly byte* KeyMask = keyMask;
        public readonly int KeyMaskLength = keyMaskLength;
        public readonly float* Output = output;
        public readonly int OutputLength = outputLength;
        public readonly float* Probabilities = probabilities;
        public readonly int ProbabilitiesLength = probabilitiesLength;
        public readonly AttentionShape Shape = shape;
        public readonly bool Causal = causal;
    }

    /// <summary>Backward's pinned buffers, for the worker threads (qkv and its gradient have the same length).</summary>
    private readonly unsafe struct BackwardBuffers(float* outputGradient, int outputGradientLength, float* qkv, float* qkvGradient, int qkvLength,
        float* probabilities, int probabilitiesLength, AttentionShape shape, bool overwrite)
    {
        public readonly float* OutputGradient = outputGradient;
        public readonly int OutputGradientLength = outputGradientLength;
        public readonly float* Qkv = qkv;
        public readonly float* QkvGradient = qkvGradient;
        public readonly int QkvLength = qkvLength;
        public readonly float* Probabilities = probabilities;
        public readonly int ProbabilitiesLength = probabilitiesLength;
        public readonly AttentionShape Shape = shape;
        public readonly bool Overwrite = overwrite;
    }
}
