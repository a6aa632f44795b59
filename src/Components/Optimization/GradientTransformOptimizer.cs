using System.Numerics.Tensors;
using Pipelines.Components.Compute;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Optimization;

/// <summary>Runs a <see cref="IGradientTransform"/> (usually an alias of <see cref="Optimizers"/>) as an <see cref="IOptimizer"/>.</summary>
/// <remarks>
/// Holds the transform's state, the step count and one update buffer reused every step (no allocation in steady
/// state). A step copies the gradients into the buffer, lets the transform rewrite it, and adds it to the values; a transform
/// that can move only some slices (a frozen base's <see cref="Lora.AdaptedBaseUpdate"/>) gets only those, the rest kept at zero.
/// The copy, the transform (through <see cref="UpdateContext.Parallelism"/>) and the addition run in chunks over
/// <see cref="Parallelism"/>'s threads; the built-in transforms give the same bits for any thread count.
/// Read hyperparameters and diagnostics from the state, e.g.
/// <c>optimizer.State.Find&lt;ClipByGlobalNormState&gt;()?.LastNorm</c>.
/// </remarks>
public sealed class GradientTransformOptimizer : IOptimizer
{
    private const string Magic = "Pipelines.GradientTransformOptimizer";
    private const int FormatVersion = 1;

    private readonly ParameterArena arena;
    private readonly float[] updates;
    private readonly SliceSelection moving = new();

    /// <summary>Creates the optimizer and the transform's initial state for <paramref name="arena"/>.</summary>
    public GradientTransformOptimizer(IGradientTransform transform, ParameterArena arena)
        : this(transform, arena, Parallelism.Sequential)
    {
    }

    /// <summary>Creates the optimizer, stepping on <paramref name="parallelism"/>'s threads (usually the model's).</summary>
    public GradientTransformOptimizer(IGradientTransform transform, ParameterArena arena, Parallelism parallelism)
    {
        Transform = OptionGuard.NotNull(transform, nameof(transform));
        this.arena = OptionGuard.NotNull(arena, nameof(arena));
        updates = new float[arena.BufferLength];
        State = transform.Init(arena);
        Parallelism = parallelism;
    }

    /// <summary>The threads a step uses (the results do not depend on it for the built-in transforms).</summary>
    public Parallelism Parallelism { get; set; }

    /// <summary>The transform.</summary>
    public IGradientTransform Transform { get; }

    /// <summary>The transform's state (replaced by <see cref="LoadState"/>).</summary>
    public TransformState State { get; private set; }

    /// <inheritdoc />
    public long StepCount { get; private set; }

    /// <inheritdoc />
    /// <remarks>The schedule of the first <see cref="ILearningRateState"/> in the state tree at the next step; 0 if the chain has none.</remarks>
    public double CurrentLearningRate => State.Find<ILearningRateState>()?.LearningRate.ValueAt(StepCount) ?? 0;

    /// <summary>The updates of the last step (the deltas that were added to the values), laid out like the arena.</summary>
    public ReadOnlySpan<float> LastUpdates => updates;

    /// <inheritdoc />
    /// <exception cref="ArgumentException"><paramref name="arena"/> is not the arena this optimizer was made for.</exception>
    public unsafe void Step(ParameterArena arena)
    {
        ArgumentNullException.ThrowIfNull(arena);
        if (!ReferenceEquals(arena, this.arena))
            throw new ArgumentException("This optimizer was made for another arena; its state is laid out for that one.", nameof(arena));
        // A partial transform (a frozen base's) sees only the slices it may move; the others' updates stay zero and their
        // values untouched, which is what the full pass would have produced.
        var parameters = Transform is IPartialTransform partial ? moving.Select(arena.Parameters, partial.Moves) : arena.Parameters;
        var context = new UpdateContext(StepCount + 1, parameters) { Parallelism = Parallelism };
        fixed (float* gradients = arena.Gradients)
        fixed (float* values = arena.Values)
        fixed (float* updatesPointer = updates)
        {
            // The whole buffer when every slice moves, so the padding between slices is copied (as zeros) too.
            if (parameters.Count == arena.Parameters.Count) Copy(gradients, updatesPointer, updates.Length, Parallelism);
            else
            {
                ElementChunks.For(context, (Gradients: (nint)gradients, Updates: (nint)updatesPointer), static (in job, _, offset, length) =>
                    new ReadOnlySpan<float>((float*)job.Gradients + offset, length).CopyTo(new Span<float>((float*)job.Updates + offset, length)));
            }

            Transform.Update(updates, arena.Values, State, context);
            ElementChunks.For(context, (Values: (nint)values, Updates: (nint)updatesPointer), static (in job, _, offset, length) =>
            {
                var valueSpan = new Span<float>((float*)job.Values + offset, length);
                TensorPrimitives.Add(valueSpan, new ReadOnlySpan<float>((float*)job.Updates + offset, length), valueSpan);
            });
        }

        StepCount++;
    }

    /// <summary>Copies <paramref name="length"/> floats in chunks over <paramref name="parallelism"/>'s threads.</summary>
    private static unsafe void Copy(float* source, float* destination, int length, Parallelism parallelism) =>
        parallelism.For(length, (Source: (nint)source, Destination: (nint)destination), static (job, start, end) =>
            new ReadOnlySpan<float>((float*)job.Source + start, end - start).CopyTo(new Span<float>((float*)job.Destination + start, end - start)),
            ElementChunks.MinimumChunk);

    /// <inheritdoc />
    /// <remarks>Format: a header, the arena's layout (names and shapes), the step count, then the state tree.</remarks>
    public void SaveState(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(Magic);
        writer.Write(FormatVersion);
        writer.Write(arena.Parameters.Count);
        foreach (var parameter in arena.Parameters)
        {
            writer.Write(parameter.Name);
            writer.Write(parameter.Shape.Count);
            foreach (var dimension in parameter.Shape) writer.Write(dimension);
        }

        writer.Write(StepCount);
        State.Write(writer);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Reads into a fresh state and swaps it in only when everything fits, so a failed load leaves the optimizer
    /// as it was. Hyperparameters come from this optimizer's transform, not from the checkpoint.
    /// </remarks>
    public void LoadState(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        try
        {
            if (reader.ReadString() != Magic) throw new InvalidDataException("This is not a gradient-transform optimizer checkpoint.");
            var version = reader.ReadInt32();
            if (version != FormatVersion) throw new InvalidDataException($"Checkpoint format {version} is not the supported format {FormatVersion}.");
            ReadLayout(reader);
            var stepCount = reader.ReadInt64();
            if (stepCount < 0) throw new InvalidDataException($"The checkpoint's step count {stepCount} is negative.");
            var state = Transform.Init(arena);
            try
            {
                state.Read(reader);
            }
            catch (InvalidDataException error)
            {
                throw new InvalidDataException($"The optimizer state does not fit this chain: {error.Message}", error);
            }

            State = state;
            StepCount = stepCount;
        }
        catch (EndOfStreamException error)
        {
            throw new InvalidDataException("The checkpoint ends before the optimizer state does.", error);
        }
    }

    private void ReadLayout(BinaryReader reader)
    {
        var count = reader.ReadInt32();
        if (count != arena.Parameters.Count)
            throw new InvalidDataException($"The checkpoint was made for an arena of {count} parameters; this one has {arena.Parameters.Count}.");
        foreach (var parameter in arena.Parameters)
        {
            var name = reader.ReadString();
            var rank = reader.ReadInt32();
            if (rank is < 1 or > 64) throw new InvalidDataException($"Parameter '{name}' has rank {rank} in the checkpoint.");
            var shape = new int[rank];
            for (var axis = 0; axis < rank; axis++) shape[axis] = reader.ReadInt32();
            if (name != parameter.Name || !shape.SequenceEqual(parameter.Shape))
                throw new InvalidDataException(
                    $"Parameter {parameter.Index} is '{name}' [{string.Join(", ", shape)}] in the checkpoint but '{parameter.Name}' [{string.Join(", ", parameter.Shape)}] in this arena.");
        }
    }
}
