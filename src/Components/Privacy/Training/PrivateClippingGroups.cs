using Pipelines.Components.Tensors;

namespace Pipelines.Components.Privacy;

/// <summary>The clipping groups of a transformer for a <see cref="ClippingLayout"/>, by PyTorch parameter name.</summary>
internal static class PrivateClippingGroups
{
    /// <summary>G: 1 when flat; per layer, the embeddings, each block, and the final norm with the head.</summary>
    public static int Count(ClippingLayout layout, int layerCount) => layout == ClippingLayout.Flat ? 1 : layerCount + 2;

    /// <summary>The starting C_g: C when flat, <c>C / sqrt(G)</c> per layer (so the step's sensitivity is C).</summary>
    public static double[] InitialClipNorms(ClippingLayout layout, int layerCount, double clipNorm)
    {
        var count = Count(layout, layerCount);
        return Enumerable.Repeat(clipNorm / Math.Sqrt(count), count).ToArray();
    }

    /// <summary>The groups with norms <paramref name="clipNorms"/> (one per group).</summary>
    public static ClippingGroups Create(ClippingLayout layout, int layerCount, IReadOnlyList<double> clipNorms) =>
        layout == ClippingLayout.Flat ? ClippingGroups.Flat(clipNorms[0]) : ClippingGroups.PerGroup(clipNorms, parameter => LayerOf(parameter, layerCount));

    private static int LayerOf(ParameterSlice parameter, int layerCount)
    {
        var name = parameter.Name;
        if (name.StartsWith("wte.", StringComparison.Ordinal) || name.StartsWith("wpe.", StringComparison.Ordinal)) return 0;
        if (name.StartsWith("blocks.", StringComparison.Ordinal))
        {
            var end = name.IndexOf('.', "blocks.".Length);
            return 1 + int.Parse(name.AsSpan("blocks.".Length, end - "blocks.".Length), System.Globalization.CultureInfo.InvariantCulture);
        }

        return layerCount + 1;
    }
}
