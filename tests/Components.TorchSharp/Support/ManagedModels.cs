using Pipelines.Components.Compute;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.TorchSharp.Tests.Support;

/// <summary>Seeded weights and batches shared by the backend comparisons.</summary>
internal static class ManagedModels
{
    /// <summary>
    /// Overwrites every parameter with a seeded N(0, 0.1²) value (layer-norm scales around 1), so that biases and norm
    /// shifts are not 0 and every path of the model matters, as the PyTorch fixtures do.
    /// </summary>
    public static void Randomize(ParameterArena arena, ulong seed)
    {
        var random = new SeededRandom(seed);
        foreach (var parameter in arena.Parameters)
        {
            var values = arena.ValuesOf(parameter);
            var offset = parameter.Role == ParameterRole.NormScale ? 1.0 : 0.0;
            for (var index = 0; index < values.Length; index++) values[index] = (float)(offset + 0.1 * Gaussian(random));
        }
    }

    /// <summary>Seeded token ids in [0, <paramref name="vocabularySize"/>).</summary>
    public static int[] Tokens(int count, int vocabularySize, ulong seed)
    {
        var random = new SeededRandom(seed);
        return Enumerable.Range(0, count).Select(_ => random.NextInt32(vocabularySize)).ToArray();
    }

    private static double Gaussian(SeededRandom random)
    {
        var uniform = 1.0 - random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(uniform)) * Math.Cos(2 * Math.PI * random.NextDouble());
    }
}
