using System.Numerics.Tensors;
using Pipelines.Components.Compute;

namespace Pipelines.Components.Kernels;

/// <summary>Fused softmax and cross-entropy: per-row class probabilities and the negative log-likelihood of the target.</summary>
/// <remarks>
/// <c>p = exp(z − max z) / Σ exp(z − max z)</c> (subtracting the row maximum keeps every exponential in [0, 1]);
/// <c>loss = log Σ exp(z − max z) − (z_target − max z) = −log p_target</c>, computed without taking the
/// logarithm of a probability that may have underflowed. Backward: <c>dz += dloss·(p − onehot(target))</c>.
/// A target of <see cref="IgnoredTarget"/> marks an ignored row (padding): its loss is 0 and it receives no
/// gradient; its probabilities are still written.
/// </remarks>
public static class SoftmaxCrossEntropy
{
    /// <summary>The target value that marks a row to ignore, as PyTorch's <c>ignore_index</c> convention.</summary>
    public const int IgnoredTarget = -1;

    private const int MinimumChunkElements = 8 * 1024; // exponentials are dear: smaller chunks than plain adds

    /// <summary>Writes the softmax of each row of <paramref name="logits"/> and each row's cross-entropy loss.</summary>
    /// <param name="logits">Unnormalised scores, N×V.</param>
    /// <param name="targets">Target class per row in [0, V), or −1 to ignore the row, N.</param>
    /// <param name="probabilities">Destination for the softmax, N×V (overwritten).</param>
    /// <param name="losses">Destination for the per-row loss, N (overwritten; 0 for ignored rows).</param>
    /// <param name="rows">N, the number of rows.</param>
    /// <param name="classCount">V, the number of classes.</param>
    /// <param name="parallelism">Threads to use.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, or a target is outside [0, V) and not −1.</exception>
    /// <exception cref="ArgumentException">A span's length does not match the shape.</exception>
    public static unsafe void Forward(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, Span<float> probabilities, Span<float> losses, int rows, int classCount, Parallelism parallelism)
    {
        CheckForward(logits, targets, probabilities, losses, rows, classCount);
        var length = rows * classCount;
        fixed (float* logitsPointer = logits, probabilitiesPointer = probabilities, lossesPointer = losses)
        fixed (int* targetsPointer = targets)
        {
            float* logitsAddress = logitsPointer, probabilitiesAddress = probabilitiesPointer, lossesAddress = lossesPointer;
            var targetsAddress = targetsPointer;
            parallelism.For(rows, (start, end) => ForwardRows(
                new ReadOnlySpan<float>(logitsAddress, length), new ReadOnlySpan<int>(targetsAddress, rows),
                new Span<float>(probabilitiesAddress, length), new Span<float>(lossesAddress, rows), classCount, start, end),
                Math.Max(1, MinimumChunkElements / classCount));
        }
    }

    /// <summary>Adds <c>lossGradients[i]·(p_i − onehot(target_i))</c> to each non-ignored row of <paramref name="logitsGradient"/>.</summary>
    /// <param name="probabilities">The softmax written by forward, N×V.</param>
    /// <param name="targets">Target class per row in [0, V), or −1 to ignore the row, N.</param>
    /// <param name="lossGradients">dL/dloss_i per row, N (for a mean over k rows, 1/k).</param>
    /// <param name="logitsGradient">Accumulated (<c>+=</c>), N×V.</param>
    /// <param name="rows">N, the number of rows.</param>
    /// <param name="classCount">V, the number of classes.</param>
    /// <param name="parallelism">Threads to use.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, or a target is outside [0, V) and not −1.</exception>
    /// <exception cref="ArgumentException">A span's length does not match the shape.</exception>
    public static void Backward(ReadOnlySpan<float> probabilities, ReadOnlySpan<int> targets, ReadOnlySpan<float> lossGradients, Span<float> logitsGradient, int rows, int classCount, Parallelism parallelism) =>
        Backward(probabilities, targets, lossGradients, logitsGradient, rows, classCount, parallelism, overwrite: false);

    /// <summary>As the public <c>Backward</c>, but with <paramref name="overwrite"/> writes <c>dloss·(p − onehot)</c> (0 on ignored rows) instead of adding it, so the models' logits gradient needs no clearing first.</summary>
    internal static unsafe void Backward(ReadOnlySpan<float> probabilities, ReadOnlySpan<int> targets, ReadOnlySpan<float> lossGradients, Span<float> logitsGradient, int rows, int classCount, Parallelism parallelism, bool overwrite)
    {
        CheckBackward(probabilities, targets, lossGradients, logitsGradient, rows, classCount);
        var length = rows * classCount;
        fixed (float* probabilitiesPointer = probabilities, lossGradientsPointer = lossGradients, logitsGradientPointer = logitsGradient)
        fixed (int* targetsPointer = targets)
        {
            float* probabilitiesAddress = probabilitiesPointer, lossGradientsAddress = lossGradientsPointer, logitsGradientAddress = logitsGradientPointer;
            var targetsAddress = targetsPointer;
            parallelism.For(rows, (start, end) => BackwardRows(
                new ReadOnlySpan<float>(probabilitiesAddress, length), new ReadOnlySpan<int>(targetsAddress, rows),
                new ReadOnlySpan<float>(lossGradientsAddress, rows), new Span<float>(logitsGradientAddress, length), classCount, start, end, overwrite),
                Math.Max(1, 2 * MinimumChunkElements / classCount));
        }
    }

    private static void ForwardRows(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, Span<float> probabilities, Span<float> losses, int classCount, int start, int end)
    {
        for (var row = start; row < end; row++)
        {
            var z = logits.Slice(row * classCount, classCount);
            var p = probabilities.Slice(row * classCount, classCount);
            var (maximum, sum) = VectorExponential.Softmax(z, p);
            var target = targets[row];
            losses[row] = target == IgnoredTarget ? 0f : MathF.Log(sum) - (z[target] - maximum);
        }
    }

    private static void BackwardRows(ReadOnlySpan<float> probabilities, ReadOnlySpan<int> targets, ReadOnlySpan<float> lossGradients, Span<float> logitsGradient, int classCount, int start, int end, bool overwrite)
    {
        for (var row = start; row < end; row++)
        {
            var target = targets[row];
            var dz = logitsGradient.Slice(row * classCount, classCount);
            if (target == IgnoredTarget)
            {
                if (overwrite) dz.Clear();
                continue;
            }

            var p = probabilities.Slice(row * classCount, classCount);
            var lossGradient = lossGradients[row];
            // The target entry gets (p − 1)·dloss in one rounding, as the reference does.
            var targetGradient = (overwrite ? 0f : dz[target]) + (p[target] - 1f) * lossGradient;
            if (overwrite) TensorPrimitives.Multiply(p, lossGradient, dz);
            else TensorPrimitives.MultiplyAdd(p, lossGradient, dz, dz);
            dz[target] = targetGradient;
        }
    }

    private static void CheckForward(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, ReadOnlySpan<float> probabilities, ReadOnlySpan<float> losses, int rows, int classCount)
    {
        CheckSizes(rows, classCount);
        var length = (long)rows * classCount;
        KernelGuard.RequireLength(logits.Length, length, nameof(logits));
        KernelGuard.RequireLength(targets.Length, rows, nameof(targets));
        KernelGuard.RequireLength(probabilities.Length, length, nameof(probabilities));
        KernelGuard.RequireLength(losses.Length, rows, nameof(losses));
        CheckTargets(targets, classCount);
    }

    private static void CheckBackward(ReadOnlySpan<float> probabilities, ReadOnlySpan<int> targets, ReadOnlySpan<float> lossGradients, ReadOnlySpan<float> logitsGradient, int rows, int classCount)
    {
        CheckSizes(rows, classCount);
        var length = (long)rows * classCount;
        KernelGuard.RequireLength(probabilities.Length, length, nameof(probabilities));
        KernelGuard.RequireLength(targets.Length, rows, nameof(targets));
        KernelGuard.RequireLength(lossGradients.Length, rows, nameof(lossGradients));
        KernelGuard.RequireLength(logitsGradient.Length, length, nameof(logitsGradient));
        CheckTargets(targets, classCount);
    }

    private static void CheckSizes(int rows, int classCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classCount);
    }

    private static void CheckTargets(ReadOnlySpan<int> targets, int classCount)
    {
        for (var index = 0; index < targets.Length; index++)
        {
            var target = targets[index];
            if ((uint)target >= (uint)classCount && target != IgnoredTarget)
                throw new ArgumentOutOfRangeException(nameof(targets), target, $"targets[{index}] = {target} is outside [0, {classCount}) and is not the ignored target {IgnoredTarget}.");
        }
    }

    /// <summary>Plain single-threaded loops: the specification the fast kernel is tested against.</summary>
    public static class Reference
    {
        /// <summary>Writes each row's softmax and loss; see <see cref="SoftmaxCrossEntropy.Forward"/>.</summary>
        /// <param name="logits">Unnormalised scores, N×V.</param>
        /// <param name="targets">Target class per row, or −1 to ignore the row, N.</param>
        /// <param name="probabilities">Destination for the softmax, N×V (overwritten).</param>
        /// <param name="losses">Destination for the per-row loss, N (overwritten).</param>
        /// <param name="rows">N.</param>
        /// <param name="classCount">V.</param>
        public static void Forward(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, Span<float> probabilities, Span<float> losses, int rows, int classCount)
        {
            CheckForward(logits, targets, probabilities, losses, rows, classCount);
            for (var row = 0; row < rows; row++)
            {
                var offset = row * classCount;
                var maximum = float.NegativeInfinity;
                for (var index = 0; index < classCount; index++) maximum = MathF.Max(maximum, logits[offset + index]);
                var sum = 0f;
                for (var index = 0; index < classCount; index++)
                {
                    var exponential = MathF.Exp(logits[offset + index] - maximum);
                    probabilities[offset + index] = exponential;
                    sum += exponential;
                }

                for (var index = 0; index < classCount; index++) probabilities[offset + index] /= sum;
                var target = targets[row];
                losses[row] = target == IgnoredTarget ? 0f : MathF.Log(sum) - (logits[offset + target] - maximum);
            }
        }

        /// <summary>Adds <c>dloss·(p − onehot(target))</c> to each non-ignored row; see <see cref="SoftmaxCrossEntropy.Backward(ReadOnlySpan{float}, ReadOnlySpan{int}, ReadOnlySpan{float}, Span{float}, int, int, Parallelism)"/>.</summary>
        /// <param name="probabilities">The softmax written by forward, N×V.</param>
        /// <param name="targets">Target class per row, or −1 to ignore the row, N.</param>
        /// <param name="lossGradients">dL/dloss_i per row, N.</param>
        /// <param name="logitsGradient">Accumulated, N×V.</param>
        /// <param name="rows">N.</param>
        /// <param name="classCount">V.</param>
        public static void Backward(ReadOnlySpan<float> probabilities, ReadOnlySpan<int> targets, ReadOnlySpan<float> lossGradients, Span<float> logitsGradient, int rows, int classCount)
        {
            CheckBackward(probabilities, targets, lossGradients, logitsGradient, rows, classCount);
            for (var row = 0; row < rows; row++)
            {
                var target = targets[row];
                if (target == IgnoredTarget) continue;
                var offset = row * classCount;
                for (var index = 0; index < classCount; index++)
                {
                    var indicator = index == target ? 1f : 0f;
                    logitsGradient[offset + index] += (probabilities[offset + index] - indicator) * lossGradients[row];
                }
            }
        }
    }
}
