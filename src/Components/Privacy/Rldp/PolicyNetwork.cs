using Pipelines.Components.Compute;

namespace Pipelines.Components.Privacy;

/// <summary>
/// A small multilayer perceptron in plain arrays for the RLDP hyper-policy: ReLU hidden layers, a linear output,
/// forward beside backward, gradients accumulated, updated by Adam (Kingma and Ba 2014, arXiv 1412.6980).
/// </summary>
/// <remarks>
/// Layer l maps <c>x -> W_l x + b_l</c> (W_l is [out, in], row-major); initialised as PyTorch's Linear,
/// <c>U(-1/sqrt(in), 1/sqrt(in))</c>. The networks have a few thousand weights, so double precision and plain loops serve.
/// </remarks>
internal sealed class PolicyNetwork
{
    private const double Beta1 = 0.9;
    private const double Beta2 = 0.999;
    private const double AdamEpsilon = 1e-8;

    private readonly int[] sizes;
    private readonly double[][] weights;
    private readonly double[][] weightGradients;
    private readonly double[][] firstMoments;
    private readonly double[][] secondMoments;
    private long adamSteps;

    /// <summary>A network of layer sizes <paramref name="sizes"/> (input first, output last), drawn from <paramref name="random"/>.</summary>
    public PolicyNetwork(IReadOnlyList<int> sizes, SeededRandom random)
    {
        this.sizes = [.. sizes];
        var layers = this.sizes.Length - 1;
        weights = new double[layers][];
        weightGradients = new double[layers][];
        firstMoments = new double[layers][];
        secondMoments = new double[layers][];
        for (var layer = 0; layer < layers; layer++)
        {
            var (input, output) = (this.sizes[layer], this.sizes[layer + 1]);
            var length = output * input + output; // W then b
            weights[layer] = new double[length];
            var bound = 1 / Math.Sqrt(input);
            for (var index = 0; index < length; index++) weights[layer][index] = (2 * random.NextDouble() - 1) * bound;
            weightGradients[layer] = new double[length];
            firstMoments[layer] = new double[length];
            secondMoments[layer] = new double[length];
        }
    }

    /// <summary>The input size.</summary>
    public int InputSize => sizes[0];

    /// <summary>The output size.</summary>
    public int OutputSize => sizes[^1];

    /// <summary>Runs the network; the returned trace holds every layer's output for <see cref="Backward"/>; its last entry is the output.</summary>
    public double[][] Forward(ReadOnlySpan<double> input)
    {
        var trace = new double[sizes.Length][];
        trace[0] = input.ToArray();
        for (var layer = 0; layer < weights.Length; layer++)
        {
            var (inputs, outputs) = (sizes[layer], sizes[layer + 1]);
            var (x, w, y) = (trace[layer], weights[layer], new double[outputs]);
            for (var row = 0; row < outputs; row++)
            {
                var sum = w[outputs * inputs + row];
                for (var column = 0; column < inputs; column++) sum += w[row * inputs + column] * x[column];
                y[row] = layer < weights.Length - 1 ? Math.Max(0, sum) : sum;
            }

            trace[layer + 1] = y;
        }

        return trace;
    }

    /// <summary>Adds the weight gradients of <paramref name="outputGradient"/> at <paramref name="trace"/> and returns the input's gradient.</summary>
    public double[] Backward(double[][] trace, ReadOnlySpan<double> outputGradient)
    {
        var gradient = outputGradient.ToArray();
        for (var layer = weights.Length - 1; layer >= 0; layer--)
        {
            var (inputs, outputs) = (sizes[layer], sizes[layer + 1]);
            var (x, w, dw) = (trace[layer], weights[layer], weightGradients[layer]);
            if (layer < weights.Length - 1)
            {
                for (var row = 0; row < outputs; row++) if (trace[layer + 1][row] <= 0) gradient[row] = 0; // ReLU
            }

            var inputGradient = new double[inputs];
            for (var row = 0; row < outputs; row++)
            {
                var g = gradient[row];
                dw[outputs * inputs + row] += g;
                for (var column = 0; column < inputs; column++)
                {
                    dw[row * inputs + column] += g * x[column];
                    inputGradient[column] += g * w[row * inputs + column];
                }
            }

            gradient = inputGradient;
        }

        return gradient;
    }

    /// <summary>Sets every weight gradient to zero.</summary>
    public void ZeroGradients()
    {
        foreach (var gradient in weightGradients) Array.Clear(gradient);
    }

    /// <summary>One Adam update at <paramref name="learningRate"/> from the accumulated gradients, which are then zeroed.</summary>
    public void AdamStep(double learningRate)
    {
        adamSteps++;
        var (correction1, correction2) = (1 - Math.Pow(Beta1, adamSteps), 1 - Math.Pow(Beta2, adamSteps));
        for (var layer = 0; layer < weights.Length; layer++)
        {
            var (w, g, m, v) = (weights[layer], weightGradients[layer], firstMoments[layer], secondMoments[layer]);
            for (var index = 0; index < w.Length; index++)
            {
                m[index] = Beta1 * m[index] + (1 - Beta1) * g[index];
                v[index] = Beta2 * v[index] + (1 - Beta2) * g[index] * g[index];
                w[index] -= learningRate * (m[index] / correction1) / (Math.Sqrt(v[index] / correction2) + AdamEpsilon);
            }
        }

        ZeroGradients();
    }

    /// <summary>Moves these weights toward <paramref name="source"/>'s: <c>w = (1 - tau) w + tau w_source</c> (Polyak averaging of SAC's target critics).</summary>
    public void MoveToward(PolicyNetwork source, double tau)
    {
        for (var layer = 0; layer < weights.Length; layer++)
        {
            for (var index = 0; index < weights[layer].Length; index++)
                weights[layer][index] = (1 - tau) * weights[layer][index] + tau * source.weights[layer][index];
        }
    }

    /// <summary>Writes weights, Adam moments and step count.</summary>
    public void Save(BinaryWriter writer)
    {
        writer.Write(adamSteps);
        foreach (var array in weights.Concat(firstMoments).Concat(secondMoments))
        {
            foreach (var value in array) writer.Write(value);
        }
    }

    /// <summary>Restores what <see cref="Save"/> wrote (for a network of the same sizes).</summary>
    public void Load(BinaryReader reader)
    {
        adamSteps = reader.ReadInt64();
        foreach (var array in weights.Concat(firstMoments).Concat(secondMoments))
        {
            for (var index = 0; index < array.Length; index++) array[index] = reader.ReadDouble();
        }

        ZeroGradients();
    }
}
