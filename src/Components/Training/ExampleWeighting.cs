namespace Pipelines.Components.Training;

/// <summary>
/// Per-example loss weights (importance or class re-weighting): a batch's loss is the weighted mean
/// <c>L = Σᵢ wᵢ·ℓᵢ / Σᵢ wᵢ</c>, so each example's loss reaches L with the factor <c>∂L/∂ℓᵢ = wᵢ / Σⱼ wⱼ</c>.
/// </summary>
/// <remarks>The one place of this formula: every backend computes <c>L = Σᵢ gᵢ·ℓᵢ</c> and back-propagates <c>gᵢ</c> from <see cref="LossFactors"/>.</remarks>
public static class ExampleWeighting
{
    /// <summary>Writes <c>gᵢ = w[exampleIndices[i]] / Σⱼ w[exampleIndices[j]]</c> into <paramref name="destination"/> (all 0 when the batch's weights sum to 0).</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than the batch.</exception>
    public static void LossFactors(ReadOnlySpan<float> weights, ReadOnlySpan<int> exampleIndices, Span<float> destination)
    {
        if (destination.Length < exampleIndices.Length)
            throw new ArgumentException($"'{nameof(destination)}' has {destination.Length} elements; the batch has {exampleIndices.Length}.", nameof(destination));
        double sum = 0;
        foreach (var example in exampleIndices) sum += weights[example];
        for (var row = 0; row < exampleIndices.Length; row++) destination[row] = sum == 0 ? 0f : (float)(weights[exampleIndices[row]] / sum);
    }

    /// <summary>Checks that <paramref name="weights"/> (if any) holds one finite, non-negative weight per example.</summary>
    /// <exception cref="ArgumentException">A count or a weight is wrong; the message names the example.</exception>
    public static void Check(float[]? weights, int exampleCount, string parameterName)
    {
        if (weights is null) return;
        if (weights.Length != exampleCount)
            throw new ArgumentException($"'{parameterName}' has {weights.Length} weights; the training set has {exampleCount} examples.", parameterName);
        var bad = Array.FindIndex(weights, weight => !float.IsFinite(weight) || weight < 0);
        if (bad >= 0) throw new ArgumentException($"The weight of example {bad} is {weights[bad]}; weights must be finite and non-negative.", parameterName);
    }
}
