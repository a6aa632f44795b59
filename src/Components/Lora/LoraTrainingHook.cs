using System.Numerics.Tensors;
using Pipelines.Components.Optimization;
using Pipelines.Components.Tensors;
using Pipelines.Components.Training;

namespace Pipelines.Components.Lora;

/// <summary>
/// Trains a <see cref="LoraAdapter"/> inside the one <see cref="TrainingLoop"/>: after the base model's update it checks the
/// adapter's gradients, steps the adapter's own optimizer over its arena and clears its gradients; its weights, optimizer
/// state, dropout state and plan go into every checkpoint.
/// </summary>
/// <remarks>
/// LoRA (Hu et al., arXiv 2106.09685): only A and B of <c>h = W0 x + scale · B A x</c> learn, the base weights stay frozen
/// (the base optimizer should be masked to the few base parameters that still train, such as a new classification
/// head). The adapter's optimizer runs the same transform chain as the base's, so both follow one schedule (a global-norm
/// clip in the chain therefore clips the adapter and the base's trainable parameters each on its own). A checkpoint
/// written under one plan refuses to resume under another: <see cref="LoadState"/> throws <see cref="InvalidDataException"/>
/// naming both plans (the run record, through <see cref="AdaptedBaseUpdate"/>, refuses it first).
/// </remarks>
public sealed class LoraTrainingHook : ITrainingHook
{
    private const int StateVersion = 1;
    private readonly LoraAdapter adapter;
    private readonly GradientTransformOptimizer optimizer;

    /// <summary>Creates the hook; <paramref name="transform"/> gets a fresh state over the adapter's arena.</summary>
    /// <param name="adapter">The adapter to train (attached to the model through a <see cref="LoraModel"/>).</param>
    /// <param name="transform">The optimizer chain, usually the one the base parameters use.</param>
    public LoraTrainingHook(LoraAdapter adapter, IGradientTransform transform)
    {
        this.adapter = adapter ?? throw new ArgumentNullException(nameof(adapter));
        ArgumentNullException.ThrowIfNull(transform);
        optimizer = new GradientTransformOptimizer(transform, adapter.Parameters);
    }

    /// <summary>The adapter being trained.</summary>
    public LoraAdapter Adapter => adapter;

    /// <inheritdoc />
    /// <exception cref="TrainingDivergedException">An adapter gradient is NaN or infinite.</exception>
    public void AfterBackward(long step, ParameterArena arena)
    {
        var squares = TensorPrimitives.SumOfSquares(adapter.Parameters.Gradients);
        if (!float.IsFinite(squares)) throw new TrainingDivergedException(step, "LoRA adapter gradients", squares);
    }

    /// <inheritdoc />
    public void AfterUpdate(long step, ParameterArena arena, IOptimizer baseOptimizer)
    {
        optimizer.Step(adapter.Parameters);
        adapter.Parameters.ZeroGradients(); // the loop clears the base arena only; backward accumulates into this one
    }

    /// <inheritdoc />
    public void SaveState(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(StateVersion);
        writer.Write(adapter.Plan.ToJson());
        writer.Write(adapter.DropoutState);
        var values = adapter.Parameters.Values;
        writer.Write(values.Length);
        foreach (var value in values) writer.Write(value);
        optimizer.SaveState(writer);
    }

    /// <inheritdoc />
    /// <exception cref="InvalidDataException">The stored state is not a LoRA hook's, was written under another injection plan (both are named), or its arena has another size.</exception>
    public void LoadState(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var version = reader.ReadInt32();
        if (version != StateVersion) throw new InvalidDataException($"The checkpoint holds LoRA hook state version {version}; this build reads {StateVersion}.");
        var planJson = reader.ReadString();
        var current = adapter.Plan.ToJson();
        if (planJson != current)
            throw new InvalidDataException($"The checkpoint's LoRA adapter was trained under the plan {Compact(planJson)}; this run's plan is {Compact(current)}.");
        var dropoutState = reader.ReadUInt64();
        var length = reader.ReadInt32();
        var values = adapter.Parameters.Values;
        if (length != values.Length) throw new InvalidDataException($"The checkpoint's LoRA arena holds {length} floats; this adapter has {values.Length}.");
        for (var index = 0; index < length; index++) values[index] = reader.ReadSingle();
        optimizer.LoadState(reader);
        adapter.DropoutState = dropoutState;
        adapter.Parameters.ZeroGradients();
    }

    private static string Compact(string json) => string.Join(" ", json.Split((char[])['\n', '\r', ' '], StringSplitOptions.RemoveEmptyEntries));
}
