using Pipelines.Components.Schedules;
using Pipelines.Components.Optimization;
using Pipelines.Components.Sparsity;
using Pipelines.Components.Tensors;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pipelines.Components.TorchSharp.Optimization;

/// <summary>
/// Runs a managed optimizer chain (any <see cref="IGradientTransform"/> built from the building blocks of
/// <see cref="Components.Optimization"/>, e.g. <see cref="Optimizers.Focus(FocusOptions)"/>) on a module's parameters on
/// their device: the TorchSharp counterpart of <see cref="GradientTransformOptimizer"/>.
/// </summary>
/// <remarks>
/// <para>
/// Each transform's formula is the managed transform's own static generic method (for example <c>ScaleByAdam.Formula</c>:
/// <c>m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g*g; u = m/(1-b1^t) / (sqrt(v/(1-b2^t)) + eps)</c>, Kingma &amp; Ba,
/// arXiv 1412.6980), evaluated with one tensor operation per arithmetic operation, so the two backends cannot drift apart
/// in what they compute. The optimizer walks the chain as the managed one does: a step starts from the gradients, each
/// transform rewrites the updates of the parameters in its context, and the result is added to the parameters.
/// </para>
/// <para>
/// Structural transforms select parameters by the managed predicates over the slices of <c>layout</c> (one slice = one
/// named parameter): <see cref="Chain"/>, <see cref="Masked"/>, <see cref="Freeze"/>, <see cref="MultiTransform"/>.
/// Elementwise: <see cref="ScaleByAdam"/>, <see cref="ScaleByMomentum"/>, <see cref="TraceMomentum"/>,
/// <see cref="ScaleBySign"/>, <see cref="AddDecayedWeights"/>, <see cref="ScaleByLearningRate"/>, <see cref="SetToZero"/>,
/// <see cref="ScaleByFocus"/> (FOCUS, arXiv 2501.12243, all three <see cref="FocusWeightDecayPlacement"/>s).
/// <see cref="ClipByGlobalNorm"/> reduces on the device and reads back one scalar, the norm. <see cref="ApplyMaskTransform"/>
/// (sparse training, arXiv 2501.12486) zeroes the pruned entries with the mask copied to the device, copied again when
/// <see cref="PruningMask.Version"/> changes. Nothing else crosses to the host during a step. Any other transform is
/// refused at construction with a <see cref="NotSupportedException"/> naming it.
/// </para>
/// <para>
/// State tensors exist only for the parameters a stateful transform acts on and live on their device. On the CPU the
/// device computes the managed operations in the same order, so 20 steps agree with <see cref="GradientTransformOptimizer"/>
/// within 1e-4 relative (tests/Components.TorchSharp/Optimization).
/// </para>
/// </remarks>
/// <example>
/// <code>
/// using var optimizer = new TorchOptimizer(model, managed.Parameters, Optimizers.Focus(new FocusOptions(6e-4) { WeightDecay = 0.2 }));
/// loss.backward(); optimizer.Step();
/// </code>
/// </example>
public sealed class TorchOptimizer : ITorchOptimizer
{
    private const string Magic = "PIPELINES-TORCH-OPTIMIZER";
    private const int FormatVersion = 1;

    private readonly DeviceParameter[] parameters;
    private readonly DeviceTransform root;

    /// <summary>Compiles <paramref name="transform"/> for the parameters of <paramref name="module"/> and makes its zero state on their device.</summary>
    /// <param name="module">The module whose parameters are trained.</param>
    /// <param name="layout">A managed arena with the module's parameter names and shapes; only its slices are read, by the chain's predicates (decay, groups, masks).</param>
    /// <param name="transform">The optimizer chain, e.g. one of <see cref="Optimizers"/>.</param>
    /// <exception cref="ArgumentException">The module's parameters and the layout's differ, a <see cref="MultiTransform"/> does not partition them, or a pruning mask was made for another arena.</exception>
    /// <exception cref="NotSupportedException">The chain holds a transform this optimizer does not run; the message names it.</exception>
    public TorchOptimizer(nn.Module module, ParameterArena layout, IGradientTransform transform)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(layout);
        Transform = transform ?? throw new ArgumentNullException(nameof(transform));
        parameters = TorchParameters.Match(module, layout, nameof(layout)).Select((pair, index) => new DeviceParameter(index, pair.Parameter, pair.Slice)).ToArray();
        root = Compile(transform, parameters, layout);
    }

    /// <summary>The optimizer chain.</summary>
    public IGradientTransform Transform { get; }

    /// <inheritdoc />
    public long StepCount { get; private set; }

    /// <inheritdoc />
    /// <remarks>The schedule of the first transform with a learning rate, depth first (a <see cref="ScaleByLearningRate"/> or <see cref="ScaleByFocus"/>, inside any groups or masks).</remarks>
    public ISchedule? LearningRate => root.SelfAndDescendants().Select(node => node.LearningRate).FirstOrDefault(schedule => schedule is not null);

    /// <inheritdoc />
    /// <remarks><see cref="LearningRate"/> at the next step; 0 if the chain has none.</remarks>
    public double CurrentLearningRate => LearningRate?.ValueAt(StepCount) ?? 0;

    /// <summary>The global norm before clipping at the last step, of the chain's first <see cref="ClipByGlobalNorm"/> (NaN before the first step or without one).</summary>
    public double LastNorm => root.SelfAndDescendants().OfType<DeviceClipByGlobalNorm>().FirstOrDefault()?.LastNorm ?? double.NaN;

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">A schedule gives a rate that is negative, NaN or infinite; the message names the step.</exception>
    public void Step()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var updates = new DeviceUpdates(parameters, StepCount + 1);
        root.Update(updates);
        foreach (var parameter in parameters) parameter.Tensor.add_(updates[parameter.Index]);
        StepCount++;
    }

    /// <inheritdoc />
    public IReadOnlyList<Tensor> StateBuffersOf(Parameter parameter)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        var found = parameters.FirstOrDefault(candidate => ReferenceEquals(candidate.Tensor, parameter));
        return found is null ? [] : root.SelfAndDescendants().SelectMany(node => node.StateOf(found.Index)).ToArray();
    }

    /// <inheritdoc />
    /// <remarks>Format: a header, the layout (names and shapes), the step count, then each transform's kind, scalars and tensors, depth first.</remarks>
    public void SaveState(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(Magic);
        writer.Write(FormatVersion);
        writer.Write(parameters.Length);
        foreach (var parameter in parameters)
        {
            writer.Write(parameter.Slice.Name);
            writer.Write(parameter.Slice.Shape.Count);
            foreach (var dimension in parameter.Slice.Shape) writer.Write(dimension);
        }

        writer.Write(StepCount);
        root.Write(writer);
    }

    /// <inheritdoc />
    /// <remarks>Reads and checks everything before assigning anything, so a failed load leaves the optimizer as it was. Hyperparameters come from this optimizer's chain.</remarks>
    public void LoadState(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        try
        {
            if (reader.ReadString() != Magic) throw new InvalidDataException($"This is not a {nameof(TorchOptimizer)} state.");
            var version = reader.ReadInt32();
            if (version != FormatVersion) throw new InvalidDataException($"Optimizer state format {version} is not the supported format {FormatVersion}.");
            ReadLayout(reader);
            var stepCount = reader.ReadInt64();
            if (stepCount < 0) throw new InvalidDataException($"The optimizer state claims {stepCount} steps.");
            var commits = new List<Action>();
            try
            {
                root.Read(reader, commits);
            }
            catch (InvalidDataException error)
            {
                throw new InvalidDataException($"The optimizer state does not fit this chain: {error.Message}", error);
            }

            foreach (var commit in commits) commit();
            StepCount = stepCount;
        }
        catch (EndOfStreamException error)
        {
            throw new InvalidDataException("The optimizer state is truncated.", error);
        }
    }

    /// <summary>Releases the state tensors.</summary>
    public void Dispose() => root.Dispose();

    private void ReadLayout(BinaryReader reader)
    {
        var count = reader.ReadInt32();
        if (count != parameters.Length)
            throw new InvalidDataException($"The optimizer state was made for {count} parameters; this optimizer has {parameters.Length}.");
        foreach (var parameter in parameters)
        {
            var name = reader.ReadString();
            var rank = reader.ReadInt32();
            if (rank is < 1 or > 64) throw new InvalidDataException($"Parameter '{name}' has rank {rank} in the optimizer state.");
            var shape = new int[rank];
            for (var axis = 0; axis < rank; axis++) shape[axis] = reader.ReadInt32();
            if (name != parameter.Slice.Name || !shape.SequenceEqual(parameter.Slice.Shape))
                throw new InvalidDataException(
                    $"Parameter {parameter.Index} is '{name}' [{string.Join(", ", shape)}] in the optimizer state but '{parameter.Slice.Name}' [{string.Join(", ", parameter.Slice.Shape)}] here.");
        }
    }

    /// <summary>The device form of <paramref name="transform"/> acting on <paramref name="context"/>.</summary>
    private static DeviceTransform Compile(IGradientTransform transform, IReadOnlyList<DeviceParameter> context, ParameterArena layout)
    {
        IReadOnlyList<DeviceParameter> Where(Func<ParameterSlice, bool> predicate) => context.Where(parameter => predicate(parameter.Slice)).ToArray();
        switch (transform)
        {
            case Chain chain:
                return new DeviceChain(nameof(Chain), context, chain.Transforms.Select(inner => Compile(inner, context, layout)).ToArray());
            case Masked masked:
            {
                var selected = Where(masked.Predicate);
                return new DeviceChain(nameof(Masked), selected, [Compile(masked.Inner, selected, layout)]);
            }

            case Freeze freeze:
            {
                var frozen = Where(freeze.Mask);
                return new DeviceChain(nameof(Freeze), frozen, [new DeviceSetToZero(frozen)]);
            }

            case MultiTransform multi:
                multi.CheckPartition(layout.Parameters, nameof(layout));
                return new DeviceGroups(context, multi.Groups.Select(group => group.Name).ToArray(),
                    multi.Groups.Select(group => Compile(group.Transform, Where(group.Selects), layout)).ToArray());
            case ClipByGlobalNorm clip:
                return new DeviceClipByGlobalNorm(clip, context);
            case ScaleByAdam adam:
                return new DeviceScaleByAdam(adam, context);
            case ScaleByMomentum momentum:
                return new DeviceScaleByMomentum(momentum, context);
            case TraceMomentum trace:
                return new DeviceTraceMomentum(trace, context);
            case ScaleBySign:
                return new DeviceScaleBySign(context);
            case AddDecayedWeights decay:
                return new DeviceAddDecayedWeights(decay, context);
            case ScaleByLearningRate rate:
                return new DeviceScaleByLearningRate(rate, context);
            case SetToZero:
                return new DeviceSetToZero(context);
            case ScaleByFocus focus:
                return new DeviceScaleByFocus(focus, context);
            case ApplyMaskTransform mask:
                return new DeviceApplyMask(mask, context, nameof(layout));
            default:
                throw new NotSupportedException(
                    $"The TorchSharp optimizer does not run the gradient transform {transform.GetType().Name}; it runs Chain, Masked, Freeze, MultiTransform, "
                    + "ClipByGlobalNorm, ScaleByAdam, ScaleByMomentum, TraceMomentum, ScaleBySign, AddDecayedWeights, ScaleByLearningRate, SetToZero, "
                    + "ScaleByFocus and ApplyMaskTransform. The managed backend (ManagedBackend) runs every gradient transform.");
        }
    }
}
