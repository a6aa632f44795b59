using Pipelines.Components.Compute;
using Pipelines.Components.Kernels;
using Pipelines.Components.Models;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Lora;

/// <summary>
/// A set of LoRA modules built from a <see cref="LoraInjectionPlan"/>, with their parameters in an arena of their own, so an
/// optimizer steps the adapter alone and the adapter saves, loads and switches without touching the base model.
/// </summary>
/// <remarks>
/// Hu et al., arXiv 2106.09685: every adapted projection computes <c>h = W0 x + scale · B A dropout(x)</c>. A starts
/// Kaiming-uniform with a = √5 (bound 1/√IC, as PyTorch's <c>nn.Linear</c> default), B starts at 0 so the adapted model's
/// outputs start identical to the base's. Dropout (probability p, kept entries scaled by 1/(1-p)) applies while
/// <see cref="Training"/>, drawn from a seeded source. Parameter names: <c>blocks.{l}.{module}.lora_A.weight</c> [r, IC] and
/// <c>.lora_B.weight</c> [OC, r]. Attach it to a model through <see cref="LoraModel"/>. Not thread-safe.
/// </remarks>
public sealed class LoraAdapter : IProjectionAdapter
{
    private readonly Dictionary<(int Layer, LoraProjection Projection), LoraModule> byKey;
    private readonly SeededRandom dropoutSource;

    /// <summary>Builds the adapter a plan describes for a model of shape <paramref name="config"/>, initialised from <paramref name="seed"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The plan names a layer the model lacks, a bad rank, alpha or dropout (see <see cref="LoraInjectionPlan.Validate"/>).</exception>
    /// <exception cref="ArgumentException">The plan repeats a layer or target, or lists none.</exception>
    public LoraAdapter(TransformerConfig config, LoraInjectionPlan plan, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(plan);
        plan.Validate(config);
        Config = config;
        Plan = plan;
        var builder = new ParameterArenaBuilder();
        var modules = new List<LoraModule>();
        foreach (var entry in plan.Layers.OrderBy(entry => entry.Layer))
        {
            foreach (var projection in entry.Targets.Order())
            {
                var (outChannels, inChannels) = projection.Shape(config.Channels);
                var path = LoraProjections.ModulePath(entry.Layer, projection);
                var down = builder.Add(path + ".lora_A.weight", ParameterRole.LinearWeight, entry.Rank, inChannels);
                var up = builder.Add(path + ".lora_B.weight", ParameterRole.LinearWeight, outChannels, entry.Rank);
                modules.Add(new LoraModule(entry.Layer, projection, entry.Rank, entry.Alpha, plan.UseRsLora, inChannels, outChannels, down, up));
            }
        }

        Modules = modules;
        byKey = modules.ToDictionary(module => (module.Layer, module.Projection));
        Parameters = builder.Build();
        var initSource = new SeededRandom(seed);
        foreach (var module in modules)
        {
            var bound = 1.0 / Math.Sqrt(module.InChannels); // Kaiming uniform, a = √5: gain √(2/(1+5)), bound = gain·√(3/fan_in)
            var values = Parameters.ValuesOf(module.Down);
            for (var index = 0; index < values.Length; index++) values[index] = (float)((2 * initSource.NextDouble() - 1) * bound);
        }

        dropoutSource = SeededRandom.ForStream(seed, 1);
    }

    /// <summary>The shape of the models this adapter fits.</summary>
    public TransformerConfig Config { get; }

    /// <summary>The plan the adapter was built from.</summary>
    public LoraInjectionPlan Plan { get; }

    /// <summary>The adapted projections, by layer then projection.</summary>
    public IReadOnlyList<LoraModule> Modules { get; }

    /// <summary>The adapter's parameters (every A and B) and their gradients.</summary>
    public ParameterArena Parameters { get; }

    /// <summary>Whether dropout is applied (true after construction, as a PyTorch module starts in training mode).</summary>
    public bool Training { get; set; } = true;

    /// <summary>The dropout source's state; assign a saved value to replay the same masks.</summary>
    public ulong DropoutState { get => dropoutSource.State; set => dropoutSource.State = value; }

    /// <summary>The module adapting block <paramref name="layer"/>'s <paramref name="projection"/>, or null.</summary>
    public LoraModule? Find(int layer, LoraProjection projection) => byKey.GetValueOrDefault((layer, projection));

    /// <summary>scale · B·A for <paramref name="module"/>, [OC, IC] row-major: what merging adds to the base weight.</summary>
    public float[] Delta(LoraModule module)
    {
        ArgumentNullException.ThrowIfNull(module);
        var delta = new float[module.OutChannels * module.InChannels];
        Gemm.Multiply(Parameters.ValuesOf(module.Up), module.Rank, false, Parameters.ValuesOf(module.Down), module.InChannels, false, delta, module.InChannels,
            module.OutChannels, module.InChannels, module.Rank, module.Scale, 0f, Parallelism.Sequential);
        return delta;
    }

    void IProjectionAdapter.Forward(int layer, LoraProjection projection, ReadOnlySpan<float> input, Span<float> output, int rows, Parallelism parallelism)
    {
        if (Find(layer, projection) is not { } module) return;
        var inputLength = rows * module.InChannels;
        ActivationBuffer.Grow(ref module.Hidden, rows * module.Rank);
        module.DroppedLastForward = Training && Plan.Dropout > 0;
        if (module.DroppedLastForward)
        {
            ActivationBuffer.Grow(ref module.DroppedInput, inputLength);
            ActivationBuffer.Grow(ref module.KeepFactors, inputLength);
            var keep = (float)(1 / (1 - Plan.Dropout));
            for (var index = 0; index < inputLength; index++)
            {
                var factor = dropoutSource.NextDouble() < Plan.Dropout ? 0f : keep;
                module.KeepFactors[index] = factor;
                module.DroppedInput[index] = input[index] * factor;
            }

            input = module.DroppedInput.AsSpan(0, inputLength);
        }

        LowRankUpdate.Forward(input, Parameters.ValuesOf(module.Down), Parameters.ValuesOf(module.Up), module.Scale, module.Hidden.AsSpan(0, rows * module.Rank), output,
            rows, module.InChannels, module.OutChannels, module.Rank, parallelism);
    }

    bool IProjectionAdapter.Adapts(int layer) => Modules.Any(module => module.Layer == layer);

    void IProjectionAdapter.Backward(int layer, LoraProjection projection, ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> input, Span<float> inputGradient, int rows, Parallelism parallelism)
    {
        if (Find(layer, projection) is not { } module) return;
        var inputLength = rows * module.InChannels;
        ActivationBuffer.Grow(ref module.HiddenGradient, rows * module.Rank);
        var hidden = module.Hidden.AsSpan(0, rows * module.Rank);
        var hiddenGradient = module.HiddenGradient.AsSpan(0, rows * module.Rank);
        ReadOnlySpan<float> down = Parameters.ValuesOf(module.Down);
        ReadOnlySpan<float> up = Parameters.ValuesOf(module.Up);
        var downGradient = Parameters.GradientsOf(module.Down);
        var upGradient = Parameters.GradientsOf(module.Up);
        if (!module.DroppedLastForward)
        {
            LowRankUpdate.Backward(outputGradient, input, down, up, module.Scale, hidden, hiddenGradient, inputGradient, downGradient, upGradient,
                rows, module.InChannels, module.OutChannels, module.Rank, parallelism);
            return;
        }

        if (inputGradient.IsEmpty)
        {
            LowRankUpdate.Backward(outputGradient, module.DroppedInput.AsSpan(0, inputLength), down, up, module.Scale, hidden, hiddenGradient, Span<float>.Empty, downGradient, upGradient,
                rows, module.InChannels, module.OutChannels, module.Rank, parallelism);
            return;
        }

        // d(dropout(x))/dx is the keep factor: back-propagate to the dropped input, then scale into the real input gradient.
        ActivationBuffer.Grow(ref module.DroppedInputGradient, inputLength);
        var droppedGradient = module.DroppedInputGradient.AsSpan(0, inputLength);
        droppedGradient.Clear();
        LowRankUpdate.Backward(outputGradient, module.DroppedInput.AsSpan(0, inputLength), down, up, module.Scale, hidden, hiddenGradient, droppedGradient, downGradient, upGradient,
            rows, module.InChannels, module.OutChannels, module.Rank, parallelism);
        for (var index = 0; index < inputLength; index++) inputGradient[index] += droppedGradient[index] * module.KeepFactors[index];
    }
}
