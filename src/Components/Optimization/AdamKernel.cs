using System.Numerics;

namespace Pipelines.Components.Optimization;

/// <summary>Adam's elementwise moment update, vectorised; the scalar tail computes exactly the same expression.</summary>
internal static class AdamKernel
{
    /// <summary>
    /// m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g²; g ← (m / c1) / (√(v / c2) + eps), elementwise over the spans.
    /// </summary>
    /// <remarks>No fused multiply-add, so vector and scalar lanes round identically and results do not depend on the width.</remarks>
    public static void Update(Span<float> update, Span<float> first, Span<float> second, float beta1, float beta2, float oneMinusBeta1, float oneMinusBeta2, float correction1, float correction2, float epsilon)
    {
        var element = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var width = Vector<float>.Count;
            var (b1, b2, a1, a2) = (new Vector<float>(beta1), new Vector<float>(beta2), new Vector<float>(oneMinusBeta1), new Vector<float>(oneMinusBeta2));
            var (c1, c2, eps) = (new Vector<float>(correction1), new Vector<float>(correction2), new Vector<float>(epsilon));
            for (; element <= update.Length - width; element += width)
            {
                var gradient = new Vector<float>(update[element..]);
                var m = b1 * new Vector<float>(first[element..]) + a1 * gradient;
                var v = b2 * new Vector<float>(second[element..]) + a2 * gradient * gradient;
                m.CopyTo(first[element..]);
                v.CopyTo(second[element..]);
                (m / c1 / (Vector.SquareRoot(v / c2) + eps)).CopyTo(update[element..]);
            }
        }

        for (; element < update.Length; element++)
        {
            var gradient = update[element];
            first[element] = beta1 * first[element] + oneMinusBeta1 * gradient;
            second[element] = beta2 * second[element] + oneMinusBeta2 * gradient * gradient;
            update[element] = first[element] / correction1 / (MathF.Sqrt(second[element] / correction2) + epsilon);
        }
    }
}
