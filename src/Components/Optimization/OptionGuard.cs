namespace Pipelines.Components.Optimization;

/// <summary>Validation of hyperparameters; every failure names the option and its value.</summary>
internal static class OptionGuard
{
    /// <summary>A decay rate (beta, momentum) in [0, 1).</summary>
    public static double DecayRate(double value, string name) =>
        value is >= 0 and < 1 ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be in [0, 1).");

    /// <summary>A finite value at least 0 (learning rate, weight decay, gamma).</summary>
    public static double NonNegative(double value, string name) =>
        double.IsFinite(value) && value >= 0 ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be finite and non-negative.");

    /// <summary>A finite value above 0 (epsilon, clipping norm).</summary>
    public static double Positive(double value, string name) =>
        double.IsFinite(value) && value > 0 ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be finite and positive.");

    /// <summary>A non-null reference.</summary>
    public static T NotNull<T>(T? value, string name) where T : class =>
        value ?? throw new ArgumentNullException(name);
}
