using System.Numerics;
using System.Runtime.InteropServices;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Sparsity;

/// <summary>
/// Which weights of a <see cref="ParameterArena"/> are kept (1) and which are pruned (0): a float buffer laid
/// out like the arena, over the prunable slices.
/// </summary>
/// <remarks>
/// By default only linear layers' weights are prunable (<see cref="IsPrunableByDefault"/>), never embeddings,
/// norms or biases, as in sparse pre-training (arXiv 2501.12486) and gradual magnitude pruning
/// (Zhu &amp; Gupta, arXiv 1710.01878). Entries outside the prunable slices (other parameters and padding) are
/// always 1. A mask only ever loses kept entries while training: <see cref="Prune"/> is the only mutation
/// besides restoring a saved mask. "Non-zero" counts here count <em>unpruned</em> parameters (every
/// non-prunable parameter included), whatever their current values: a kept weight that happens to be 0.0 is
/// still a parameter of the model.
/// </remarks>
public sealed partial class PruningMask
{
    private readonly float[] buffer;                  // [BufferLength] 1 kept, 0 pruned
    private readonly IReadOnlyList<ParameterSlice> parameters;
    private readonly ParameterSlice[] prunable;
    private readonly int[] positionByIndex;           // [parameter count] position in prunable, or -1
    private readonly long[] prunedCounts;             // [prunable count]

    /// <summary>Creates an all-kept mask over the slices of <paramref name="arena"/> that <paramref name="isPrunable"/> selects.</summary>
    /// <param name="arena">The parameters the mask is laid out like.</param>
    /// <param name="isPrunable">Which slices may be pruned; null selects <see cref="IsPrunableByDefault"/> (linear weights only).</param>
    public PruningMask(ParameterArena arena, Func<ParameterSlice, bool>? isPrunable = null)
        : this((arena ?? throw new ArgumentNullException(nameof(arena))).Parameters, arena.ParameterCount, arena.BufferLength,
            arena.Parameters.Where(isPrunable ?? IsPrunableByDefault).ToArray())
    {
    }

    /// <param name="parameters">All parameters of the arena, in arena order.</param>
    /// <param name="parameterCount">Their total number of scalars.</param>
    /// <param name="bufferLength">The arena's buffer length.</param>
    /// <param name="prunableSlices">Members of <paramref name="parameters"/>, in arena order.</param>
    private PruningMask(IReadOnlyList<ParameterSlice> parameters, long parameterCount, int bufferLength, ParameterSlice[] prunableSlices)
    {
        this.parameters = parameters;
        ParameterCount = parameterCount;
        buffer = new float[bufferLength];
        Array.Fill(buffer, 1f);
        prunable = prunableSlices;
        positionByIndex = Enumerable.Repeat(-1, parameters.Count).ToArray();
        for (var position = 0; position < prunable.Length; position++) positionByIndex[prunable[position].Index] = position;
        prunedCounts = new long[prunable.Length];
        PrunableCount = prunable.Sum(slice => (long)slice.Length);
    }

    /// <summary>The default choice of prunable parameters: linear layers' weights (<see cref="ParameterRole.LinearWeight"/>).</summary>
    public static bool IsPrunableByDefault(ParameterSlice slice) => slice.Role == ParameterRole.LinearWeight;

    /// <summary>The prunable slices, in arena order.</summary>
    public IReadOnlyList<ParameterSlice> PrunableSlices => prunable;

    /// <summary>Length of the mask buffer: the arena's <see cref="ParameterArena.BufferLength"/>.</summary>
    public int BufferLength => buffer.Length;

    /// <summary>The whole mask, laid out like the arena: 1 kept, 0 pruned.</summary>
    public ReadOnlySpan<float> Buffer => buffer;

    /// <summary>Number of scalar parameters of the arena (all of them, prunable or not).</summary>
    public long ParameterCount { get; }

    /// <summary>Number of scalar parameters in the prunable slices.</summary>
    public long PrunableCount { get; }

    /// <summary>Number of pruned entries.</summary>
    public long PrunedCount { get; private set; }

    /// <summary>Unpruned parameters of the whole model: <see cref="ParameterCount"/> - <see cref="PrunedCount"/>.</summary>
    public long NonZeroCount => ParameterCount - PrunedCount;

    /// <summary>Pruned fraction of the prunable parameters (0 when nothing is prunable).</summary>
    public double PrunableSparsity => PrunableCount == 0 ? 0 : (double)PrunedCount / PrunableCount;

    /// <summary>Pruned fraction of all parameters (0 for an empty arena).</summary>
    public double OverallSparsity => ParameterCount == 0 ? 0 : (double)PrunedCount / ParameterCount;

    /// <summary>Counts the changes of the mask: every <see cref="Prune"/> that prunes something and every <see cref="CopyFrom"/> (and so <see cref="ReadInto"/>) adds one.</summary>
    /// <remarks>A copy of the mask kept elsewhere (a device optimizer's mask tensors) compares it with the version it copied to know when to copy again.</remarks>
    public long Version { get; private set; }

    /// <summary>Whether <paramref name="slice"/> is one of this mask's prunable slices.</summary>
    public bool IsPrunable(ParameterSlice slice) => PositionOf(slice) >= 0;

    /// <summary>The mask entries of one parameter (all 1 for a parameter that is not prunable).</summary>
    public ReadOnlySpan<float> MaskOf(ParameterSlice slice)
    {
        RequireMember(slice);
        return buffer.AsSpan(slice.Offset, slice.Length);
    }

    /// <summary>Pruned entries of one parameter (0 if it is not prunable).</summary>
    public long PrunedCountOf(ParameterSlice slice)
    {
        RequireMember(slice);
        var position = PositionOf(slice);
        return position < 0 ? 0 : prunedCounts[position];
    }

    /// <summary>Unpruned entries of one parameter.</summary>
    public long NonZeroCountOf(ParameterSlice slice) => slice.Length - PrunedCountOf(slice);

    /// <summary>Pruned fraction of one parameter.</summary>
    public double SparsityOf(ParameterSlice slice) => (double)PrunedCountOf(slice) / slice.Length;

    /// <summary>Prunes the entries at <paramref name="indices"/> (positions within <paramref name="slice"/>); already pruned ones are left as they are.</summary>
    /// <returns>How many entries were newly pruned.</returns>
    /// <exception cref="ArgumentException"><paramref name="slice"/> is not prunable in this mask.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index lies outside the slice.</exception>
    public long Prune(ParameterSlice slice, ReadOnlySpan<int> indices)
    {
        var position = PositionOf(slice);
        if (position < 0) throw new ArgumentException($"Parameter '{slice.Name}' is not prunable in this mask.", nameof(slice));
        var entries = buffer.AsSpan(slice.Offset, slice.Length);
        long newlyPruned = 0;
        foreach (var index in indices)
        {
            if ((uint)index >= (uint)entries.Length)
                throw new ArgumentOutOfRangeException(nameof(indices), index, $"Parameter '{slice.Name}' has {entries.Length} entries.");
            if (entries[index] == 0f) continue;
            entries[index] = 0f;
            newlyPruned++;
        }

        prunedCounts[position] += newlyPruned;
        PrunedCount += newlyPruned;
        if (newlyPruned > 0) Version++;
        return newlyPruned;
    }

    /// <summary>Sets to +0 every entry of <paramref name="target"/> (laid out like the arena) that the mask prunes; other entries are untouched.</summary>
    /// <remarks>
    /// Works for values, gradients, updates and optimizer-state buffers alike. A select, not a multiply, so a
    /// pruned NaN or infinity also becomes exactly 0.
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="target"/> is not <see cref="BufferLength"/> long.</exception>
    public void ApplyTo(Span<float> target)
    {
        RequireBufferLength(target.Length, nameof(target));
        for (var position = 0; position < prunable.Length; position++)
        {
            if (prunedCounts[position] == 0) continue;
            var slice = prunable[position];
            ZeroPruned(buffer.AsSpan(slice.Offset, slice.Length), target.Slice(slice.Offset, slice.Length));
        }
    }

    /// <summary>Per-parameter sparsity of every parameter of the arena (non-prunable ones report 0).</summary>
    public IReadOnlyList<LayerSparsity> Report() =>
        parameters.Select(slice => new LayerSparsity(slice.Name, slice.Role, IsPrunable(slice), slice.Length, NonZeroCountOf(slice))).ToArray();

    /// <summary>A copy of this mask (same arena layout, same prunable slices).</summary>
    public PruningMask Clone()
    {
        var copy = new PruningMask(parameters, ParameterCount, buffer.Length, prunable);
        copy.CopyFrom(this);
        return copy;
    }

    /// <summary>Overwrites this mask with <paramref name="source"/>, which must have the same layout and prunable slices.</summary>
    /// <exception cref="ArgumentException">The masks differ in layout.</exception>
    public void CopyFrom(PruningMask source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.buffer.Length != buffer.Length || !source.prunable.Select(Describe).SequenceEqual(prunable.Select(Describe)))
            throw new ArgumentException("The source mask has a different layout or different prunable parameters.", nameof(source));
        source.buffer.CopyTo(buffer, 0);
        source.prunedCounts.CopyTo(prunedCounts, 0);
        PrunedCount = source.PrunedCount;
        Version++;
    }

    /// <summary>Position of <paramref name="slice"/> among the prunable slices, or -1.</summary>
    internal int PositionOf(ParameterSlice slice)
    {
        ArgumentNullException.ThrowIfNull(slice);
        return slice.Index < positionByIndex.Length && ReferenceEquals(parameters[slice.Index], slice) ? positionByIndex[slice.Index] : -1;
    }

    /// <summary>Zeroes the pruned entries of one prunable slice of <paramref name="target"/> (laid out like the arena).</summary>
    internal void ApplyToSlice(Span<float> target, int position)
    {
        if (prunedCounts[position] == 0) return;
        var slice = prunable[position];
        ZeroPruned(buffer.AsSpan(slice.Offset, slice.Length), target.Slice(slice.Offset, slice.Length));
    }

    /// <summary>Throws unless <paramref name="arena"/> has the layout this mask was made for.</summary>
    internal void RequireLayoutOf(ParameterArena arena, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(arena, parameterName);
        if (arena.BufferLength != buffer.Length || arena.Parameters.Count != parameters.Count)
            throw new ArgumentException($"The arena ({arena.Parameters.Count} parameters, buffer {arena.BufferLength}) does not have the mask's layout ({parameters.Count} parameters, buffer {buffer.Length}).", parameterName);
    }

    internal void RequireBufferLength(int length, string parameterName)
    {
        if (length != buffer.Length)
            throw new ArgumentException($"The buffer has {length} entries; the mask is laid out over {buffer.Length}.", parameterName);
    }

    private void RequireMember(ParameterSlice slice)
    {
        ArgumentNullException.ThrowIfNull(slice);
        if (slice.Index >= parameters.Count || !ReferenceEquals(parameters[slice.Index], slice))
            throw new ArgumentException($"Parameter '{slice.Name}' does not belong to this mask's arena.", nameof(slice));
    }

    private static string Describe(ParameterSlice slice) => $"{slice.Name}@{slice.Offset}+{slice.Length}";

    private static void ZeroPruned(ReadOnlySpan<float> mask, Span<float> target)
    {
        var index = 0;
        if (Vector.IsHardwareAccelerated && mask.Length >= Vector<float>.Count)
        {
            ref var maskStart = ref MemoryMarshal.GetReference(mask);
            ref var targetStart = ref MemoryMarshal.GetReference(target);
            for (; index <= mask.Length - Vector<float>.Count; index += Vector<float>.Count)
            {
                var kept = Vector.LoadUnsafe(ref maskStart, (nuint)index);
                var values = Vector.LoadUnsafe(ref targetStart, (nuint)index);
                Vector.ConditionalSelect(Vector.Equals(kept, Vector<float>.Zero), Vector<float>.Zero, values).StoreUnsafe(ref targetStart, (nuint)index);
            }
        }

        for (; index < mask.Length; index++)
        {
            if (mask[index] == 0f) target[index] = 0f;
        }
    }
}
