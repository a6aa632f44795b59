using Pipelines.Components.Models;
using Pipelines.Components.Sparsity;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Lora;

/// <summary>
/// A frozen base model with named LoRA adapters, at most one active: the active adapter's term is added inside the base's
/// blocks, and the base's backward computes gradients for the adapter's A and B only.
/// </summary>
/// <remarks>
/// Hu et al., arXiv 2106.09685. Attaching freezes every base parameter (<see cref="ITransformerModel.SetTrainable"/>), so
/// backward skips the frozen weights' gradient products. <see cref="Merge"/> folds the active adapter into the base
/// (<c>W = W0 + scale·B A</c>) for inference without the extra products; <see cref="Unmerge"/> subtracts it again.
/// <see cref="MergeKeepingSparsity"/> merges into a pruned base without filling its pruned entries (arXiv 2501.12486).
/// Train an adapter by stepping an optimizer over <see cref="LoraAdapter.Parameters"/>.
/// </remarks>
public sealed class LoraModel
{
    private readonly Dictionary<string, LoraAdapter> adapters = new(StringComparer.Ordinal);
    private readonly bool[] trainableBefore;
    private PruningMask? mergeMask;

    /// <summary>Wraps <paramref name="baseModel"/> and freezes its parameters (<see cref="Detach"/> restores the earlier choice).</summary>
    /// <param name="baseModel">The model to adapt.</param>
    /// <param name="trainableBase">
    /// Base parameters to keep training beside the adapters (null: none, plain LoRA). The diagnose-first paper
    /// (arXiv 2511.00797) unfreezes the full pathway when the source model is under-trained; step the base arena with
    /// its own optimizer then.
    /// </param>
    public LoraModel(ITransformerModel baseModel, Func<ParameterSlice, bool>? trainableBase = null)
    {
        Base = baseModel ?? throw new ArgumentNullException(nameof(baseModel));
        trainableBefore = Base.Parameters.Parameters.Select(Base.IsTrainable).ToArray();
        Base.SetTrainable(trainableBase ?? (static _ => false));
    }

    /// <summary>The base model; run its Forward and Backward as usual.</summary>
    public ITransformerModel Base { get; }

    /// <summary>The adapters by name.</summary>
    public IReadOnlyDictionary<string, LoraAdapter> Adapters => adapters;

    /// <summary>The active adapter's name, or null.</summary>
    public string? ActiveName { get; private set; }

    /// <summary>The active adapter, or null.</summary>
    public LoraAdapter? Active => ActiveName is null ? null : adapters[ActiveName];

    /// <summary>Whether the active adapter is merged into the base weights.</summary>
    public bool IsMerged { get; private set; }

    /// <summary>Builds an adapter from <paramref name="plan"/>, adds it under <paramref name="name"/> and activates it.</summary>
    /// <exception cref="ArgumentException">The name is taken, or the plan is invalid for this model (see <see cref="LoraInjectionPlan.Validate"/>).</exception>
    public LoraAdapter Add(string name, LoraInjectionPlan plan, ulong seed)
    {
        var adapter = new LoraAdapter(Base.Config, plan, seed);
        Add(name, adapter);
        return adapter;
    }

    /// <summary>Adds an existing adapter (e.g. a loaded one) under <paramref name="name"/> and activates it.</summary>
    /// <exception cref="ArgumentException">The name is taken, or the adapter was built for a model of another shape.</exception>
    /// <exception cref="InvalidOperationException">An adapter is merged.</exception>
    public void Add(string name, LoraAdapter adapter)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(adapter);
        if (adapter.Config != Base.Config)
            throw new ArgumentException($"Adapter '{name}' was built for {adapter.Config}, not {Base.Config}.", nameof(adapter));
        if (adapters.ContainsKey(name)) throw new ArgumentException($"An adapter named '{name}' exists already.", nameof(name));
        RequireUnmerged();
        adapters.Add(name, adapter);
        Activate(name);
    }

    /// <summary>Makes adapter <paramref name="name"/> the active one.</summary>
    /// <exception cref="KeyNotFoundException">No adapter has that name.</exception>
    /// <exception cref="InvalidOperationException">An adapter is merged (unmerge it first).</exception>
    public void Activate(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!adapters.ContainsKey(name)) throw new KeyNotFoundException($"No adapter named '{name}' (have: {string.Join(", ", adapters.Keys)}).");
        RequireUnmerged();
        ActiveName = name;
        Hook();
    }

    /// <summary>Runs the base alone (no adapter active).</summary>
    /// <exception cref="InvalidOperationException">An adapter is merged.</exception>
    public void Deactivate()
    {
        RequireUnmerged();
        ActiveName = null;
        Hook();
    }

    /// <summary>Adds scale·B·A of every module of the active adapter to its base weight; the adapter's own term stops.</summary>
    /// <exception cref="InvalidOperationException">No adapter is active, or one is merged already.</exception>
    public void Merge() => MergeCore(mask: null);

    /// <summary>
    /// Merges the active adapter into a pruned base keeping it exactly as sparse: <c>W = W⊙M + (scale·B A)⊙M</c>, M the
    /// mask (1 kept, 0 pruned). Returns the sparsity of the adapted weights before and after.
    /// </summary>
    /// <exception cref="ArgumentException">The mask is laid out for another arena.</exception>
    /// <exception cref="InvalidOperationException">No adapter is active, or one is merged already.</exception>
    public SparseMergeResult MergeKeepingSparsity(PruningMask mask)
    {
        ArgumentNullException.ThrowIfNull(mask);
        if (mask.BufferLength != Base.Parameters.BufferLength)
            throw new ArgumentException($"The mask covers {mask.BufferLength} floats; the base arena has {Base.Parameters.BufferLength}.", nameof(mask));
        var before = AdaptedWeightSparsity();
        MergeCore(mask);
        return new SparseMergeResult(before, AdaptedWeightSparsity());
    }

    /// <summary>Subtracts what <see cref="Merge"/> or <see cref="MergeKeepingSparsity"/> added; the adapter's term resumes.</summary>
    /// <exception cref="InvalidOperationException">Nothing is merged.</exception>
    public void Unmerge()
    {
        if (!IsMerged) throw new InvalidOperationException("No adapter is merged.");
        AddDeltas(Active!, -1f, mergeMask);
        IsMerged = false;
        mergeMask = null;
        Hook();
    }

    /// <summary>
    /// Whether the base's backward stops at the lowest block with an adapted projection or a trainable base parameter
    /// (false, the default: it runs down to the embeddings). The training path turns it on: the gradient of every trainable
    /// parameter is unchanged, and the blocks below, which train nothing, cost nothing. Layer diagnostics and DP per-example
    /// norms read activation gradients below that block and need it off. A trainable embedding keeps the full backward.
    /// </summary>
    public bool TruncateBackward
    {
        get => Base.Stack.TruncateBackward;
        set => Base.Stack.TruncateBackward = value;
    }

    /// <summary>
    /// Removes the adapter term from the base's blocks and restores which base parameters were trainable, and turns <see cref="TruncateBackward"/> off. A merged adapter
    /// stays merged in the weights (call <see cref="Unmerge"/> first to get the original base back).
    /// </summary>
    public void Detach()
    {
        Base.Stack.TruncateBackward = false;
        foreach (var block in Base.Stack.Blocks) block.Adapter = null;
        Base.SetTrainable(slice => trainableBefore[slice.Index]);
    }

    /// <summary>The fraction of exactly-zero entries among the base weights the active adapter targets.</summary>
    /// <exception cref="InvalidOperationException">No adapter is active.</exception>
    public double AdaptedWeightSparsity()
    {
        var adapter = Active ?? throw new InvalidOperationException("No adapter is active.");
        long zeros = 0, total = 0;
        foreach (var module in adapter.Modules)
        {
            foreach (var value in Base.Parameters.ValuesOf(Base.Parameters[module.BaseWeightName])) zeros += value == 0 ? 1 : 0;
            total += module.OutChannels * module.InChannels;
        }

        return total == 0 ? 0 : (double)zeros / total;
    }

    private void MergeCore(PruningMask? mask)
    {
        var adapter = Active ?? throw new InvalidOperationException("No adapter is active.");
        RequireUnmerged();
        AddDeltas(adapter, 1f, mask);
        IsMerged = true;
        mergeMask = mask?.Clone();
        Hook();
    }

    private void AddDeltas(LoraAdapter adapter, float sign, PruningMask? mask)
    {
        foreach (var module in adapter.Modules)
        {
            var slice = Base.Parameters[module.BaseWeightName];
            var weight = Base.Parameters.ValuesOf(slice);
            var delta = adapter.Delta(module);
            var keep = mask is not null && mask.IsPrunable(slice) ? mask.MaskOf(slice) : ReadOnlySpan<float>.Empty;
            for (var index = 0; index < weight.Length; index++)
            {
                if (keep.IsEmpty) weight[index] += sign * delta[index];
                else weight[index] = keep[index] == 0 ? 0f : weight[index] + sign * delta[index];
            }
        }
    }

    private void Hook()
    {
        var adapter = IsMerged ? null : Active;
        foreach (var block in Base.Stack.Blocks) block.Adapter = adapter;
    }

    private void RequireUnmerged()
    {
        if (IsMerged) throw new InvalidOperationException($"Adapter '{ActiveName}' is merged; unmerge it first.");
    }
}

/// <summary>The sparsity of the adapted base weights around a <see cref="LoraModel.MergeKeepingSparsity"/>.</summary>
/// <param name="SparsityBefore">Fraction of exactly-zero entries before merging.</param>
/// <param name="SparsityAfter">The same after merging; equal to <paramref name="SparsityBefore"/> when pruned entries were the only zeros.</param>
public sealed record SparseMergeResult(double SparsityBefore, double SparsityAfter);
