namespace Pipelines.Components.Privacy;

/// <summary>
/// Per-example gradient norms of a Linear layer without materialising the per-example gradients ("ghost norms").
/// </summary>
/// <remarks>
/// <para>
/// Shapes (B = examples, T = tokens per example, IC/OC = in/out channels): input a [B, T, IC], output gradient
/// b [B, T, OC]. Example i's weight gradient is <c>g_i = sum_t b_it a_it^T</c> [OC, IC] and its bias gradient
/// <c>sum_t b_it</c> [OC], so (Goodfellow 2015, arXiv 1510.01799; Li et al. 2021, arXiv 2110.05679):
/// <c>||g_i||^2 = sum_{t,t'} (a_it . a_it')(b_it . b_it')</c> and <c>||bias_i||^2 = sum_{t,t'} b_it . b_it'</c>.
/// </para>
/// <para>
/// <see cref="Ghost"/> costs O(B T^2 (IC + OC)), <see cref="Reference"/> (materialise each g_i) O(B T IC OC);
/// <see cref="SquaredNorms"/> picks the ghost form when <c>2 T^2 &lt;= IC OC</c>. All sums are in double, so the two
/// agree to rounding even when tokens' contributions cancel. The norms feed <c>c_i = min(1, C / (||g_i|| + 1e-6))</c>;
/// the clipped sum then comes from a second backward pass with example i's loss weighted by c_i.
/// </para>
/// </remarks>
public static partial class GhostNorms
{
    /// <summary>Per-example squared norms of the weight and bias gradients, by the cheaper of <see cref="Ghost"/> and <see cref="Reference"/>.</summary>
    /// <inheritdoc cref="Ghost" path="/param"/>
    /// <inheritdoc cref="Ghost" path="/exception"/>
    public static void SquaredNorms(
        ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, Span<double> weightSquaredNorms, Span<double> biasSquaredNorms,
        int batchSize, int tokens, int inChannels, int outChannels)
    {
        if (2L * tokens * tokens <= (long)inChannels * outChannels)
            Ghost(input, outputGradient, weightSquaredNorms, biasSquaredNorms, batchSize, tokens, inChannels, outChannels);
        else
            Reference(input, outputGradient, weightSquaredNorms, biasSquaredNorms, batchSize, tokens, inChannels, outChannels);
    }

    /// <summary>Per-example squared norms from the token Gram matrices: <c>sum_{t,t'} (a_t . a_t')(b_t . b_t')</c>.</summary>
    /// <param name="input">The layer's forward input a [B, T, IC].</param>
    /// <param name="outputGradient">dLoss/dOutput b [B, T, OC].</param>
    /// <param name="weightSquaredNorms">Receives ||g_i||^2 [B] (overwritten), or empty to skip.</param>
    /// <param name="biasSquaredNorms">Receives the bias gradient's squared norm [B] (overwritten), or empty to skip.</param>
    /// <param name="batchSize">B.</param>
    /// <param name="tokens">T.</param>
    /// <param name="inChannels">IC.</param>
    /// <param name="outChannels">OC.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative.</exception>
    /// <exception cref="ArgumentException">A span's length does not match its shape.</exception>
    public static void Ghost(
        ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, Span<double> weightSquaredNorms, Span<double> biasSquaredNorms,
        int batchSize, int tokens, int inChannels, int outChannels)
    {
        Validate(input, outputGradient, weightSquaredNorms, biasSquaredNorms, batchSize, tokens, inChannels, outChannels);
        for (var example = 0; example < batchSize; example++)
        {
            var a = input.Slice(example * tokens * inChannels, tokens * inChannels);
            var b = outputGradient.Slice(example * tokens * outChannels, tokens * outChannels);
            double weightSum = 0, biasSum = 0;
            for (var t = 0; t < tokens; t++)
            {
                var bt = b.Slice(t * outChannels, outChannels);
                var at = a.Slice(t * inChannels, inChannels);
                for (var other = 0; other <= t; other++)
                {
                    // The Gram matrices are symmetric: off-diagonal pairs count twice.
                    var multiplicity = other == t ? 1.0 : 2.0;
                    var outputDot = Dot(bt, b.Slice(other * outChannels, outChannels));
                    biasSum += multiplicity * outputDot;
                    if (!weightSquaredNorms.IsEmpty) weightSum += multiplicity * outputDot * Dot(at, a.Slice(other * inChannels, inChannels));
                }
            }

            if (!weightSquaredNorms.IsEmpty) weightSquaredNorms[example] = weightSum;
            if (!biasSquaredNorms.IsEmpty) biasSquaredNorms[example] = biasSum;
        }
    }

    /// <summary>The plain reference: build each g_i = sum_t b_t a_t^T and its bias gradient in double and sum their squares.</summary>
    /// <inheritdoc cref="Ghost" path="/param"/>
    /// <inheritdoc cref="Ghost" path="/exception"/>
    public static void Reference(
        ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, Span<double> weightSquaredNorms, Span<double> biasSquaredNorms,
        int batchSize, int tokens, int inChannels, int outChannels)
    {
        Validate(input, outputGradient, weightSquaredNorms, biasSquaredNorms, batchSize, tokens, inChannels, outChannels);
        var weightGradient = new double[outChannels * inChannels]; // [OC, IC]
        var biasGradient = new double[outChannels];                // [OC]
        for (var example = 0; example < batchSize; example++)
        {
            Array.Clear(weightGradient);
            Array.Clear(biasGradient);
            for (var t = 0; t < tokens; t++)
            {
                var row = example * tokens + t;
                for (var o = 0; o < outChannels; o++)
                {
                    double bValue = outputGradient[row * outChannels + o];
                    biasGradient[o] += bValue;
                    for (var c = 0; c < inChannels; c++) weightGradient[o * inChannels + c] += bValue * input[row * inChannels + c];
                }
            }

            if (!weightSquaredNorms.IsEmpty) weightSquaredNorms[example] = weightGradient.Sum(value => value * value);
            if (!biasSquaredNorms.IsEmpty) biasSquaredNorms[example] = biasGradient.Sum(value => value * value);
        }
    }

    /// <summary>Multiplies example i's rows of a loss gradient by <c>factors[i]</c> (in place): the clipping pass of ghost clipping.</summary>
    /// <remarks>
    /// Backpropagation is linear in the gradient it starts from, so scaling example i's gradient at the loss (e.g. the
    /// logits gradient) by <c>c_i</c> scales every parameter's per-example gradient by <c>c_i</c>; one ordinary backward
    /// pass then accumulates <c>sum_i c_i g_i</c> (Li et al. 2021, arXiv 2110.05679).
    /// </remarks>
    /// <param name="factors">c_i per example [B].</param>
    /// <param name="gradient">The gradient [B, elementsPerExample], scaled in place.</param>
    /// <param name="batchSize">B.</param>
    /// <param name="elementsPerExample">Elements of one example's rows (T times the channels).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative.</exception>
    /// <exception cref="ArgumentException">A span's length does not match its shape.</exception>
    public static void ScaleExamples(ReadOnlySpan<double> factors, Span<float> gradient, int batchSize, int elementsPerExample)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegative(elementsPerExample);
        CheckLength(factors.Length, batchSize, nameof(factors), "[B]");
        CheckLength(gradient.Length, (long)batchSize * elementsPerExample, nameof(gradient), "[B, elementsPerExample]");
        for (var example = 0; example < batchSize; example++)
        {
            var rows = gradient.Slice(example * elementsPerExample, elementsPerExample);
            System.Numerics.Tensors.TensorPrimitives.Multiply(rows, (float)factors[example], rows);
        }
    }

    private static double Dot(ReadOnlySpan<float> left, ReadOnlySpan<float> right)
    {
        double sum = 0;
        for (var index = 0; index < left.Length; index++) sum += (double)left[index] * right[index];
        return sum;
    }

    private static void Validate(
        ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, Span<double> weightSquaredNorms, Span<double> biasSquaredNorms,
        int batchSize, int tokens, int inChannels, int outChannels)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        ArgumentOutOfRangeException.ThrowIfNegative(inChannels);
        ArgumentOutOfRangeException.ThrowIfNegative(outChannels);
        CheckLength(input.Length, (long)batchSize * tokens * inChannels, nameof(input), "[B, T, IC]");
        CheckLength(outputGradient.Length, (long)batchSize * tokens * outChannels, nameof(outputGradient), "[B, T, OC]");
        if (!weightSquaredNorms.IsEmpty) CheckLength(weightSquaredNorms.Length, batchSize, nameof(weightSquaredNorms), "[B]");
        if (!biasSquaredNorms.IsEmpty) CheckLength(biasSquaredNorms.Length, batchSize, nameof(biasSquaredNorms), "[B]");
    }

    private static void CheckLength(int actual, long expected, string name, string shape)
    {
        if (actual != expected) throw new ArgumentException($"{name} has {actual} elements but its shape {shape} needs {expected}.", name);
    }
}
