using Pipelines.Experiments;
using Pipelines.Components.Optimization;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Tests.Optimization;

/// <summary>Small objectives over a parameter arena: each writes the gradient into the arena and returns the loss.</summary>
internal static class TestProblems
{
    /// <summary>A separable parabola over a [2, 3] matrix and a [3] vector: 0.5 * sum c_i (theta_i - t_i)^2.</summary>
    public sealed class Parabola
    {
        public Parabola()
        {
            var builder = new ParameterArenaBuilder();
            Weight = builder.Add("layer.weight", ParameterRole.LinearWeight, 2, 3);
            Bias = builder.Add("layer.bias", ParameterRole.LinearBias, 3);
            Arena = builder.Build();
            Targets = new float[Arena.BufferLength];
            Curvatures = new float[Arena.BufferLength];
            var random = new Random(7);
            foreach (var parameter in Arena.Parameters)
            {
                for (var index = parameter.Offset; index < parameter.Offset + parameter.Length; index++)
                {
                    Targets[index] = (float)(2 * random.NextDouble() - 1);
                    Curvatures[index] = (float)(0.5 + 1.5 * random.NextDouble());
                }
            }
        }

        public ParameterArena Arena { get; }
        public ParameterSlice Weight { get; }
        public ParameterSlice Bias { get; }
        public float[] Targets { get; }
        public float[] Curvatures { get; }

        /// <summary>Writes the gradient (times 1 + noise*N(0,1) per element when <paramref name="random"/> is given).</summary>
        public double Evaluate(Random? random = null, double noise = 0)
        {
            double loss = 0;
            var values = Arena.Values;
            var gradients = Arena.Gradients;
            foreach (var parameter in Arena.Parameters)
            {
                for (var index = parameter.Offset; index < parameter.Offset + parameter.Length; index++)
                {
                    var difference = (double)values[index] - Targets[index];
                    loss += 0.5 * Curvatures[index] * difference * difference;
                    var gradient = Curvatures[index] * difference;
                    if (random is not null) gradient *= 1 + noise * NarrowingValley.StandardNormal(random);
                    gradients[index] = (float)gradient;
                }
            }

            return loss;
        }

        public double MaxError()
        {
            double error = 0;
            foreach (var parameter in Arena.Parameters)
            {
                for (var index = parameter.Offset; index < parameter.Offset + parameter.Length; index++)
                    error = Math.Max(error, Math.Abs(Arena.Values[index] - Targets[index]));
            }

            return error;
        }
    }

    /// <summary>Rosenbrock's function (1-x)^2 + 100 (y-x^2)^2 over one [2] vector.</summary>
    public static double Rosenbrock(ParameterArena arena)
    {
        var values = arena.Values;
        var gradients = arena.Gradients;
        double x = values[0], y = values[1];
        gradients[0] = (float)(-2 * (1 - x) - 400 * x * (y - x * x));
        gradients[1] = (float)(200 * (y - x * x));
        return (1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x);
    }

    /// <summary>An arena holding one [2] vector named "point".</summary>
    public static ParameterArena PointArena(float first, float second)
    {
        var builder = new ParameterArenaBuilder();
        builder.Add("point", ParameterRole.LinearBias, 2);
        var arena = builder.Build();
        arena.Values[0] = first;
        arena.Values[1] = second;
        return arena;
    }

    /// <summary>Runs <paramref name="steps"/> steps of <paramref name="optimizer"/> on <paramref name="objective"/>; returns the last loss.</summary>
    public static double Run(IOptimizer optimizer, ParameterArena arena, Func<double> objective, int steps)
    {
        for (var step = 0; step < steps; step++)
        {
            arena.ZeroGradients();
            objective();
            optimizer.Step(arena);
        }

        arena.ZeroGradients();
        return objective();
    }

    /// <summary>The bits of the arena's values, for bit-identical comparisons.</summary>
    public static int[] Bits(ParameterArena arena) => arena.Values.ToArray().Select(BitConverter.SingleToInt32Bits).ToArray();
}
