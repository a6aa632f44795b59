using Pipelines.Components.Tensors;

namespace Pipelines.Components.Sparsity;

/// <summary>How sparse one parameter is.</summary>
/// <param name="Name">The parameter's name.</param>
/// <param name="Role">What the parameter is for.</param>
/// <param name="IsPrunable">Whether the mask may prune it.</param>
/// <param name="ParameterCount">Its number of scalars.</param>
/// <param name="NonZeroCount">Its unpruned scalars.</param>
public sealed record LayerSparsity(string Name, ParameterRole Role, bool IsPrunable, long ParameterCount, long NonZeroCount)
{
    /// <summary>Pruned fraction: 1 - <see cref="NonZeroCount"/> / <see cref="ParameterCount"/>.</summary>
    public double Sparsity => 1.0 - (double)NonZeroCount / ParameterCount;
}

/// <summary>What happened at one pruning step.</summary>
/// <param name="Step">Completed updates when the pruner acted (0 = before training).</param>
/// <param name="TargetSparsity">The schedule's target for the prunable parameters.</param>
/// <param name="AchievedSparsity">The mask's pruned fraction of the prunable parameters afterwards.</param>
/// <param name="NewlyPruned">Entries pruned at this step.</param>
public sealed record PruningEvent(long Step, double TargetSparsity, double AchievedSparsity, long NewlyPruned)
{
    internal void Write(BinaryWriter writer)
    {
        writer.Write(Step);
        writer.Write(TargetSparsity);
        writer.Write(AchievedSparsity);
        writer.Write(NewlyPruned);
    }

    internal static PruningEvent Read(BinaryReader reader) => new(reader.ReadInt64(), reader.ReadDouble(), reader.ReadDouble(), reader.ReadInt64());
}
