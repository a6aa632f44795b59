using Pipelines.Components.Compute;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Models;

/// <summary>GPT-2 style initial weights, drawn from a seeded source.</summary>
/// <remarks>
/// Linear weights and embeddings ~ N(0, 0.02²); the two projections that write into the residual stream
/// (<c>proj</c>, <c>out</c>) ~ N(0, (0.02/√(2L))²) so the stream's variance does not grow with depth
/// (Radford et al. 2019, GPT-2); biases 0; layer-norm scales 1 and shifts 0.
/// </remarks>
public static class ModelInitializer
{
    /// <summary>Standard deviation of weights and embeddings.</summary>
    public const double StandardDeviation = 0.02;

    /// <summary>Initialises every parameter of <paramref name="arena"/> by role, in declaration order.</summary>
    public static void InitializeGpt2Style(ParameterArena arena, int layerCount, SeededRandom random)
    {
        ArgumentNullException.ThrowIfNull(arena);
        ArgumentNullException.ThrowIfNull(random);
        var residualDeviation = StandardDeviation / Math.Sqrt(2.0 * layerCount);
        foreach (var parameter in arena.Parameters)
        {
            var values = arena.ValuesOf(parameter);
            switch (parameter.Role)
            {
                case ParameterRole.NormScale:
                    values.Fill(1f);
                    break;
                case ParameterRole.NormShift:
                case ParameterRole.LinearBias:
                    values.Clear();
                    break;
                case ParameterRole.LinearWeight when IsResidualProjection(parameter.Name):
                    random.FillGaussian(values, 0, residualDeviation);
                    break;
                default:
                    random.FillGaussian(values, 0, StandardDeviation);
                    break;
            }
        }
    }

    private static bool IsResidualProjection(string name) => name.EndsWith(".proj.weight", StringComparison.Ordinal) || name.EndsWith(".out.weight", StringComparison.Ordinal);
}
