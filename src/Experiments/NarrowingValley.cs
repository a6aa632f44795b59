namespace Pipelines.Experiments;

/// <summary>The FOCUS paper's synthetic landscape: a valley along x that narrows as x grows, seen through a rotation.</summary>
/// <remarks>
/// arXiv 2501.12243, section 2. For a point <c>p = (p0, p1)</c>:
/// <code>
/// (x, y) = p R,   R = [[cos t, -sin t], [sin t, cos t]]   (t = pi/6 by default)
/// L(p)   = 0.5*a*x^2*y^2 - c*x                            (a = sharpness, c = pull, 0.1 by default)
/// dL/d(x, y) = (a*x*y^2 - c, a*x^2*y);   dL/dp = dL/d(x, y) R^T
/// </code>
/// The loss is unbounded below along y = 0 (the valley floor keeps descending as x grows while its width
/// ~ 1/(sqrt(a) x) shrinks), so optimizers are compared on the loss reached after a fixed number of steps.
/// The stochastic gradient multiplies each coordinate of <c>dL/dp</c> by an independent N(1, sigma^2) factor.
/// Computations are in double; points and gradients are float, as in the parameter arena.
/// </remarks>
public sealed class NarrowingValley
{
    private readonly double cosine;
    private readonly double sine;

    /// <summary>Creates the landscape.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value that is not finite, or a negative sharpness.</exception>
    public NarrowingValley(double sharpness, double pull = 0.1, double rotation = Math.PI / 6)
    {
        if (!double.IsFinite(sharpness) || sharpness < 0) throw new ArgumentOutOfRangeException(nameof(sharpness), sharpness, "The sharpness must be finite and non-negative.");
        if (!double.IsFinite(pull)) throw new ArgumentOutOfRangeException(nameof(pull), pull, "The pull must be finite.");
        if (!double.IsFinite(rotation)) throw new ArgumentOutOfRangeException(nameof(rotation), rotation, "The rotation must be finite.");
        Sharpness = sharpness;
        Pull = pull;
        Rotation = rotation;
        cosine = Math.Cos(rotation);
        sine = Math.Sin(rotation);
    }

    /// <summary>a: how fast the valley narrows.</summary>
    public double Sharpness { get; }

    /// <summary>c: the slope along the valley floor.</summary>
    public double Pull { get; }

    /// <summary>t: the angle (radians) between the parameter axes and the valley's axes.</summary>
    public double Rotation { get; }

    /// <summary>The loss at <c>(first, second)</c>.</summary>
    public double Loss(double first, double second)
    {
        var (x, y) = ToValley(first, second);
        return 0.5 * Sharpness * x * x * y * y - Pull * x;
    }

    /// <summary>The exact gradient at <c>(first, second)</c>.</summary>
    public (double First, double Second) Gradient(double first, double second)
    {
        var (x, y) = ToValley(first, second);
        var gradientX = Sharpness * x * y * y - Pull;
        var gradientY = Sharpness * x * x * y;
        // dL/dp = [gx, gy] R^T: row i of R dotted with (gx, gy).
        return (gradientX * cosine - gradientY * sine, gradientX * sine + gradientY * cosine);
    }

    /// <summary>
    /// Noisy gradients of many independent points: each point's gradient times N(1, <paramref name="noise"/>^2) per coordinate.
    /// </summary>
    /// <param name="points">Points, two floats each [pointCount, 2].</param>
    /// <param name="gradients">Destination [pointCount, 2].</param>
    /// <param name="noise">sigma, the standard deviation of the multiplicative noise (0: exact gradients, no draws).</param>
    /// <param name="random">The source of the noise.</param>
    /// <exception cref="ArgumentException">Odd or mismatched lengths, or a negative or non-finite noise.</exception>
    public void NoisyGradients(ReadOnlySpan<float> points, Span<float> gradients, double noise, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (points.Length % 2 != 0) throw new ArgumentException($"Points come in pairs; got {points.Length} floats.", nameof(points));
        if (gradients.Length != points.Length) throw new ArgumentException($"The gradient buffer has {gradients.Length} floats for {points.Length}.", nameof(gradients));
        if (!double.IsFinite(noise) || noise < 0) throw new ArgumentOutOfRangeException(nameof(noise), noise, "The noise level must be finite and non-negative.");
        for (var index = 0; index < points.Length; index += 2)
        {
            var (first, second) = Gradient(points[index], points[index + 1]);
            if (noise > 0)
            {
                first *= 1 + noise * StandardNormal(random);
                second *= 1 + noise * StandardNormal(random);
            }

            gradients[index] = (float)first;
            gradients[index + 1] = (float)second;
        }
    }

    /// <summary>A standard normal draw (Box-Muller, one value per two uniforms).</summary>
    public static double StandardNormal(Random random)
    {
        var uniform1 = 1.0 - random.NextDouble();
        var uniform2 = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(uniform1)) * Math.Cos(2 * Math.PI * uniform2);
    }

    private (double X, double Y) ToValley(double first, double second) =>
        (first * cosine + second * sine, -first * sine + second * cosine);
}
