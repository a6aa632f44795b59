using System.Security.Cryptography;

namespace Pipelines.Components.Privacy;

/// <summary>Gaussian noise from the operating system's cryptographically secure generator (<see cref="RandomNumberGenerator"/>).</summary>
/// <remarks>
/// Box-Muller on 53-bit uniforms drawn 64 at a time: <c>z = sqrt(-2 log(1 - u1)) cos(2 pi u2)</c>. There is no seed and
/// no state to save: a resumed run continues with fresh noise, which is what privacy needs.
/// </remarks>
public sealed class SecureGaussianSource : IGaussianSource
{
    private readonly SecureUniform uniform = new();

    /// <inheritdoc />
    public double NextStandardNormal()
    {
        var radius = Math.Sqrt(-2.0 * Math.Log(1.0 - uniform.Next()));
        return radius * Math.Cos(2.0 * Math.PI * uniform.Next());
    }
}
