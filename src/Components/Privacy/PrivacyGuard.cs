namespace Pipelines.Components.Privacy;

/// <summary>Validation of privacy parameters; every failure is an <see cref="ArgumentOutOfRangeException"/> naming the parameter and its value.</summary>
internal static class PrivacyGuard
{
    /// <summary>delta in (0, 1), and below 1/N when the dataset size N is known (a delta of 1/N allows releasing one example outright).</summary>
    public static double Delta(double delta, string name, long? datasetSize = null)
    {
        if (!(delta is > 0 and < 1))
            throw new ArgumentOutOfRangeException(name, delta, $"{name} must be in (0, 1).");
        if (datasetSize is { } size)
        {
            if (size < 1) throw new ArgumentOutOfRangeException(nameof(datasetSize), size, "datasetSize must be at least 1.");
            if (delta >= 1.0 / size)
                throw new ArgumentOutOfRangeException(name, delta, $"{name} must be below 1/N = {1.0 / size:G6} for a dataset of N = {size} examples.");
        }

        return delta;
    }

    /// <summary>A privacy budget epsilon: finite and above 0.</summary>
    public static double Epsilon(double epsilon, string name) =>
        double.IsFinite(epsilon) && epsilon > 0 ? epsilon : throw new ArgumentOutOfRangeException(name, epsilon, $"{name} must be finite and positive.");

    /// <summary>A clipping norm C: finite and above 0.</summary>
    public static double ClipNorm(double clipNorm, string name) =>
        double.IsFinite(clipNorm) && clipNorm > 0 ? clipNorm : throw new ArgumentOutOfRangeException(name, clipNorm, $"{name} must be finite and positive.");

    /// <summary>A noise multiplier sigma: finite and at least 0 (0 means no noise and no privacy).</summary>
    public static double NoiseMultiplier(double noiseMultiplier, string name) =>
        double.IsFinite(noiseMultiplier) && noiseMultiplier >= 0 ? noiseMultiplier : throw new ArgumentOutOfRangeException(name, noiseMultiplier, $"{name} must be finite and non-negative.");

    /// <summary>A Poisson sampling rate q in (0, 1].</summary>
    public static double SamplingRate(double samplingRate, string name) =>
        samplingRate is > 0 and <= 1 ? samplingRate : throw new ArgumentOutOfRangeException(name, samplingRate, $"{name} must be in (0, 1].");

    /// <summary>A number of steps, at least 0.</summary>
    public static long Steps(long steps, string name) =>
        steps >= 0 ? steps : throw new ArgumentOutOfRangeException(name, steps, $"{name} must be non-negative.");

    /// <summary>A Renyi order alpha: finite and above 1.</summary>
    public static double Order(double order, string name) =>
        double.IsFinite(order) && order > 1 ? order : throw new ArgumentOutOfRangeException(name, order, $"{name} must be finite and above 1.");

    /// <summary>A non-empty list of orders, each finite and above 1.</summary>
    public static IReadOnlyList<double> Orders(IReadOnlyList<double> orders, string name)
    {
        ArgumentNullException.ThrowIfNull(orders, name);
        if (orders.Count == 0) throw new ArgumentException($"{name} must hold at least one order.", name);
        for (var index = 0; index < orders.Count; index++) Order(orders[index], $"{name}[{index}]");
        return orders;
    }
}
