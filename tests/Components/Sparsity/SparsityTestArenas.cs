using Pipelines.Components.Tensors;

namespace Pipelines.Components.Tests.Sparsity;

/// <summary>Small arenas with every parameter role, odd shapes and padding between slices.</summary>
internal static class SparsityTestArenas
{
    /// <summary>wte [5,3], a.weight [3,7], a.bias [3], ln.weight [7], ln.bias [7], b.weight [2,3], wpe [4,3]; seeded normal values.</summary>
    public static ParameterArena AllRoles(int seed = 1)
    {
        var builder = new ParameterArenaBuilder();
        builder.Add("wte.weight", ParameterRole.TokenEmbedding, 5, 3);
        builder.Add("a.weight", ParameterRole.LinearWeight, 3, 7);
        builder.Add("a.bias", ParameterRole.LinearBias, 3);
        builder.Add("ln.weight", ParameterRole.NormScale, 7);
        builder.Add("ln.bias", ParameterRole.NormShift, 7);
        builder.Add("b.weight", ParameterRole.LinearWeight, 2, 3);
        builder.Add("wpe.weight", ParameterRole.PositionEmbedding, 4, 3);
        var arena = builder.Build();
        Fill(arena, seed);
        return arena;
    }

    /// <summary>One linear layer: weight [rows, columns] and bias [rows].</summary>
    public static ParameterArena OneLayer(int rows, int columns, int seed = 1)
    {
        var builder = new ParameterArenaBuilder();
        builder.Add("layer.weight", ParameterRole.LinearWeight, rows, columns);
        builder.Add("layer.bias", ParameterRole.LinearBias, rows);
        var arena = builder.Build();
        Fill(arena, seed);
        return arena;
    }

    /// <summary>Seeded normal(0, 1) values in every parameter; padding stays zero.</summary>
    public static void Fill(ParameterArena arena, int seed)
    {
        foreach (var parameter in arena.Parameters)
            Support.GradientCheck.RandomArray(parameter.Length, seed + 31 * parameter.Index).CopyTo(arena.ValuesOf(parameter));
    }
}
