using Pipelines.Components.Compute;
using Pipelines.Components.Kernels;
using Pipelines.Components.Lora;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Tensors;
using Pipelines.Components.Training;

namespace Pipelines.Components.Privacy;

/// <summary>
/// The LoRA adapter's share of per-example clipping: each example's gradient of every A and B, its squared norm added
/// to the example's group norms, and <c>sum_i c_i g_i</c> over the adapter's parameters.
/// </summary>
/// <remarks>
/// <para>
/// For a projection <c>y = W0 x + s B A x</c> with input rows x_t [IC] and output gradients g_t [OC] (the same
/// <see cref="LinearTap"/> the base weight's ghost norm reads), example i's gradients are
/// <c>dB_i = s sum_t g_t (A x_t)^T</c> [OC, r] and <c>dA_i = s sum_t (B^T g_t) x_t^T</c> [r, IC] over its rows. Rank r is
/// tiny, so both are formed per example (four small Gemms) instead of by ghost norms; padding rows carry g_t = 0 and
/// add nothing. They are formed twice: once for the norms, once, scaled by the example's clip factor <c>c_ig</c> of
/// the parameter's group, for the sum, so memory is one adapter-sized buffer whatever the batch.
/// DP-SGD: Abadi et al. 2016 (arXiv 1607.00133); LoRA: Hu et al. 2021 (arXiv 2106.09685).
/// </para>
/// <para>
/// The adapter's input is the projection's own (no dropout: a plan with dropout is refused, since the taps hold the
/// undropped input). The clipped sum is kept here, not in the adapter's gradients, because the activation backward
/// pass also accumulates the adapter's unclipped gradients; <see cref="PrivateLoraUpdate"/> copies the sum over them
/// before the adapter's noisy update.
/// </para>
/// </remarks>
internal sealed class PrivateLoraClipping
{
    private readonly ClippingGroups groups;
    private readonly Dictionary<string, LoraModule> moduleByWeight;
    private readonly int[] groupOf;         // [adapter parameters] group of each A and B
    private readonly float[] exampleGradient; // [adapter length] one example's dA, dB
    private readonly double[] clippedSum;     // [adapter length] sum_i c_i g_i since Clear
    private float[] hidden = [];              // [T, r] A x_t
    private float[] hiddenGradient = [];      // [T, r] B^T g_t

    /// <exception cref="NotSupportedException">The adapter's plan has dropout.</exception>
    public PrivateLoraClipping(LoraAdapter adapter, ClippingGroups groups)
    {
        Adapter = adapter ?? throw new ArgumentNullException(nameof(adapter));
        this.groups = groups ?? throw new ArgumentNullException(nameof(groups));
        if (adapter.Plan.Dropout != 0)
            throw new NotSupportedException(
                $"Private LoRA fine-tuning needs a plan without dropout (its Dropout is {adapter.Plan.Dropout}): per-example norms are formed from the undropped projection input.");
        moduleByWeight = adapter.Modules.ToDictionary(module => module.BaseWeightName, StringComparer.Ordinal);
        groupOf = adapter.Parameters.Parameters.Select(groups.GroupOf).ToArray();
        exampleGradient = new float[adapter.Parameters.Values.Length];
        clippedSum = new double[exampleGradient.Length];
    }

    public LoraAdapter Adapter { get; }

    /// <summary>Starts a new step's clipped sum.</summary>
    public void Clear() => Array.Clear(clippedSum);

    /// <summary>Writes the clipped sum since <see cref="Clear"/> into the adapter's gradients (replacing them).</summary>
    public void CopySumToGradients()
    {
        var gradients = Adapter.Parameters.Gradients;
        for (var index = 0; index < clippedSum.Length; index++) gradients[index] = (float)clippedSum[index];
    }

    /// <summary>Adds each example's squared adapter norm per group to <paramref name="groupSquaredNorms"/> [B, G].</summary>
    /// <exception cref="InvalidOperationException">An adapted projection has no tap.</exception>
    public void AddSquaredNorms(PerExampleTaps taps, Span<double> groupSquaredNorms)
    {
        var pairs = Pairs(taps);
        var groupCount = groups.Count;
        for (var example = 0; example < taps.BatchSize; example++)
        {
            FormExampleGradient(pairs, example);
            foreach (var parameter in Adapter.Parameters.Parameters)
            {
                double sum = 0;
                foreach (var value in exampleGradient.AsSpan(parameter.Range)) sum += (double)value * value;
                groupSquaredNorms[example * groupCount + groupOf[parameter.Index]] += sum;
            }
        }
    }

    /// <summary>Adds <c>sum_i c_ig g_i</c> of the taps' examples to the clipped sum; <paramref name="factors"/> is [B, G].</summary>
    public void AccumulateClipped(PerExampleTaps taps, ReadOnlySpan<double> factors)
    {
        var pairs = Pairs(taps);
        var groupCount = groups.Count;
        for (var example = 0; example < taps.BatchSize; example++)
        {
            FormExampleGradient(pairs, example);
            foreach (var parameter in Adapter.Parameters.Parameters)
            {
                var factor = factors[example * groupCount + groupOf[parameter.Index]];
                var (offset, length) = parameter.Range.GetOffsetAndLength(clippedSum.Length);
                for (var index = offset; index < offset + length; index++) clippedSum[index] += factor * exampleGradient[index];
            }
        }
    }

    private List<(LoraModule Module, LinearTap Tap)> Pairs(PerExampleTaps taps)
    {
        var pairs = new List<(LoraModule, LinearTap)>();
        foreach (var tap in taps.Linears)
            if (moduleByWeight.TryGetValue(tap.Weight.Name, out var module)) pairs.Add((module, tap));
        if (pairs.Count != moduleByWeight.Count)
            throw new InvalidOperationException($"The model's taps cover {pairs.Count} of the adapter's {moduleByWeight.Count} projections.");
        return pairs;
    }

    /// <summary>Example <paramref name="example"/>'s dA and dB of every module into <see cref="exampleGradient"/>.</summary>
    private void FormExampleGradient(List<(LoraModule Module, LinearTap Tap)> pairs, int example)
    {
        var arena = Adapter.Parameters;
        foreach (var (module, tap) in pairs)
        {
            var (tokens, inChannels, outChannels, rank) = (tap.TokensPerExample, module.InChannels, module.OutChannels, module.Rank);
            ReadOnlySpan<float> input = tap.Input.AsSpan(example * tokens * inChannels, tokens * inChannels);              // [T, IC]
            ReadOnlySpan<float> outputGradient = tap.OutputGradient.AsSpan(example * tokens * outChannels, tokens * outChannels); // [T, OC]
            if (hidden.Length < tokens * rank) (hidden, hiddenGradient) = (new float[tokens * rank], new float[tokens * rank]);
            var h = hidden.AsSpan(0, tokens * rank);
            var u = hiddenGradient.AsSpan(0, tokens * rank);
            Gemm.Multiply(input, inChannels, false, arena.ValuesOf(module.Down), inChannels, true, h, rank, tokens, rank, inChannels, 1f, 0f, Parallelism.Sequential);
            Gemm.Multiply(outputGradient, outChannels, false, arena.ValuesOf(module.Up), rank, false, u, rank, tokens, rank, outChannels, 1f, 0f, Parallelism.Sequential);
            Gemm.Multiply(outputGradient, outChannels, true, h, rank, false, exampleGradient.AsSpan(module.Up.Range), rank,
                outChannels, rank, tokens, module.Scale, 0f, Parallelism.Sequential);
            Gemm.Multiply(u, rank, true, input, inChannels, false, exampleGradient.AsSpan(module.Down.Range), inChannels,
                rank, inChannels, tokens, module.Scale, 0f, Parallelism.Sequential);
        }
    }
}

/// <summary>
/// The adapter's side of a DP-SGD step: its clipped sum is cleared when the step starts and, after the base update,
/// gets the same noise <c>N(0, (sigma C_g)^2)</c> per group (from its own stream), the division by q N and the same
/// optimizer chain, then the adapter's gradients are zeroed.
/// </summary>
internal sealed class PrivateLoraUpdate
{
    public PrivateLoraUpdate(PrivateLoraClipping clipping, IGradientTransform noisyAverage, IGradientTransform inner)
    {
        Clipping = clipping ?? throw new ArgumentNullException(nameof(clipping));
        Optimizer = new GradientTransformOptimizer(new Chain(noisyAverage, inner), clipping.Adapter.Parameters);
    }

    public PrivateLoraClipping Clipping { get; }

    /// <summary>The adapter's optimizer: <c>Chain(NoisyAverage, inner)</c> over the adapter's arena.</summary>
    public GradientTransformOptimizer Optimizer { get; }

    public void BeginStep() => Clipping.Clear();

    public void EndStep()
    {
        var arena = Clipping.Adapter.Parameters;
        Clipping.CopySumToGradients();
        Optimizer.Step(arena);
        arena.ZeroGradients();
    }
}

/// <summary>How the private trainer builds and checks the adapter's side of DP-SGD.</summary>
internal static class PrivateLoraCanary
{
    /// <summary>
    /// The adapter's update for a step with <paramref name="options"/>: the same per-group sigma and C_g, the same q N,
    /// seeded noise from a stream of its own (noise shared with the base parameters would cancel in a difference).
    /// </summary>
    public static PrivateLoraUpdate Update(PrivateLoraClipping clipping, ClippingGroups groups, DifferentialPrivacyOptions options, int datasetSize, IGradientTransform inner)
    {
        ulong? seed = options.Seed is { } given ? SeededRandom.ForStream(given, 0x4C6F5241UL).NextUInt64() : null;
        var noisyAverage = PrivacyTransforms.NoisyAverage(groups, options.NoiseMultiplier, options.SamplingRate, datasetSize, options.Randomness, seed);
        return new PrivateLoraUpdate(clipping, noisyAverage, inner);
    }

    /// <summary>After the canary step(s): with noise, every A and B entry tensor moved; without, at least one adapter weight did.</summary>
    /// <exception cref="InvalidOperationException">An adapter tensor did not move; the message names it.</exception>
    public static void Check(LoraAdapter adapter, float[] before, double noiseMultiplier)
    {
        var problems = new List<string>();
        var anyMoved = false;
        foreach (var parameter in adapter.Parameters.Parameters)
        {
            var moved = !before.AsSpan(parameter.Range).SequenceEqual(adapter.Parameters.Values[parameter.Range]);
            anyMoved |= moved;
            if (!moved && noiseMultiplier > 0) problems.Add($"- Adapter parameter '{parameter.Name}' did not move under noise multiplier {noiseMultiplier}.");
        }

        if (!anyMoved) problems.Add("- No adapter parameter moved.");
        if (problems.Count > 0)
            throw new InvalidOperationException("The DP canary step failed for the LoRA adapter:" + Environment.NewLine + string.Join(Environment.NewLine, problems));
    }
}

/// <summary>
/// The adapter's part of a private run's checkpoint: its weights, dropout state and optimizer state (the noise is seeded
/// per step, so nothing else is needed to continue exactly). The plan is in the run record, which refuses a resume
/// under another plan first.
/// </summary>
internal sealed class PrivateLoraRunState(LoraAdapter adapter, Func<GradientTransformOptimizer> optimizer) : ITrainingHook
{
    public void AfterBackward(long step, ParameterArena arena)
    {
    }

    public void AfterUpdate(long step, ParameterArena arena, IOptimizer baseOptimizer)
    {
    }

    public void SaveState(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var values = adapter.Parameters.Values;
        writer.Write(values.Length);
        foreach (var value in values) writer.Write(value);
        optimizer().SaveState(writer);
    }

    /// <exception cref="InvalidDataException">The checkpoint's adapter has another size.</exception>
    public void LoadState(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var values = adapter.Parameters.Values;
        var length = reader.ReadInt32();
        if (length != values.Length) throw new InvalidDataException($"The checkpoint's LoRA adapter holds {length} floats; this run's adapter has {values.Length}.");
        for (var index = 0; index < length; index++) values[index] = reader.ReadSingle();
        optimizer().LoadState(reader);
        adapter.Parameters.ZeroGradients();
    }
}
