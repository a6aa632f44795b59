using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Kernels;
using Pipelines.Components.Tests.Support;

namespace Pipelines.Components.Tests.Kernels;

/// <summary>
/// The blocks' attention backward in overwrite mode (each (batch, head) pair writes its own q, k, v columns: a block's
/// dq rows and the first block's dk, dv with beta 0, the keys past them cleared) gives the values of the public accumulating
/// backward into a cleared buffer, whatever the buffer held.
/// </summary>
[TestClass]
public sealed class AttentionOverwriteTests
{
    [TestMethod]
    [DataRow(1, 1, 4, 1, true, false)]
    [DataRow(2, 7, 12, 3, true, false)]
    [DataRow(3, 70, 16, 2, true, false)]
    [DataRow(2, 9, 8, 2, false, false)]
    [DataRow(2, 70, 8, 2, false, true)]
    [DataRow(2, 70, 8, 2, true, true)]
    public void PairsWriteTheirColumnsAsAccumulatingIntoZerosWould(int batchSize, int tokenCount, int channels, int headCount, bool causal, bool padded)
    {
        // Padding the last 3 keys of every sequence leaves keys that no block sees, whose gradients must still be written.
        var keyMask = padded ? Enumerable.Range(0, batchSize * tokenCount).Select(index => (byte)(index % tokenCount < tokenCount - 3 ? 1 : 0)).ToArray() : [];
        var qkv = GradientCheck.RandomArray(batchSize * tokenCount * 3 * channels, 1);
        var outputGradient = GradientCheck.RandomArray(batchSize * tokenCount * channels, 2);
        var probabilities = new float[batchSize * headCount * tokenCount * tokenCount];
        Attention.Forward(qkv, keyMask, new float[batchSize * tokenCount * channels], probabilities, batchSize, tokenCount, channels, headCount, causal, Parallelism.Sequential);
        foreach (var parallelism in new Parallelism[] { Parallelism.Sequential, new(2), new(3) })
        {
            var expected = new float[qkv.Length];
            Attention.Backward(outputGradient, qkv, probabilities, expected, batchSize, tokenCount, channels, headCount, parallelism);
            var actual = Enumerable.Repeat(float.NaN, qkv.Length).ToArray();
            Attention.Backward(outputGradient, qkv, probabilities, actual, batchSize, tokenCount, channels, headCount, parallelism, overwrite: true);
            CollectionAssert.AreEqual(expected, actual, $"{parallelism.ThreadCount} threads");
        }
    }
}
