using Pipelines.Components.Optimization;
using Pipelines.Components.Tensors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pipelines.Components.TorchSharp.Optimization;

/// <summary>
/// AdamW on a module's tensors, step for step the managed chain of <see cref="Optimizers.AdamW(AdamWOptions)"/>:
/// <c>Chain(ClipByGlobalNorm?, ScaleByAdam, Masked(AddDecayedWeights, Decays), ScaleByLearningRate)</c>.
/// </summary>
/// <remarks>
/// Loshchilov &amp; Hutter, arXiv 1711.05101. At step t (from 1), for each parameter θ with gradient g, after the
/// optional clip <c>g ← g·min(1, c/‖g‖)</c> over all gradients together:
/// <code>
/// m = b1·m + (1−b1)·g;   v = b2·v + (1−b2)·g²
/// u = (m / (1−b1^t)) / (√(v / (1−b2^t)) + eps)  [+ wd·θ where Decays]
/// θ = θ − lr(t−1)·u
/// </code>
/// with <c>lr</c> the options' schedule. Which parameters decay is the options' <see cref="AdamWOptions.Decays"/>
/// policy, applied to the slices of a managed <see cref="ParameterArena"/> with the same names (the layout), so the
/// policy lives in one place. Moments live on the parameters' device; nothing leaves it except the clip's norm.
/// </remarks>
public sealed class TorchAdamW : ITorchOptimizer
{
    private readonly AdamWOptions options;
    private readonly Entry[] entries;

    /// <summary>Creates zero moments for every parameter of <paramref name="module"/>.</summary>
    /// <param name="module">The module whose parameters are trained.</param>
    /// <param name="layout">A managed arena with the module's parameter names and shapes; only its slices are read, to apply <see cref="AdamWOptions.Decays"/>.</param>
    /// <param name="options">Rates, betas, epsilon, weight decay, decay policy and optional clip norm.</param>
    /// <exception cref="ArgumentException">The module's parameters and the layout's differ (see <see cref="TorchParameters"/>).</exception>
    public TorchAdamW(nn.Module module, ParameterArena layout, AdamWOptions options)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(layout);
        this.options = options ?? throw new ArgumentNullException(nameof(options));
        entries = TorchParameters.Match(module, layout, nameof(layout))
            .Select(pair => new Entry(pair.Parameter, options.Decays(pair.Slice), zeros_like(pair.Parameter), zeros_like(pair.Parameter)))
            .ToArray();
    }

    private const string Kind = "PIPELINES-TORCH-ADAMW";

    /// <inheritdoc />
    public long StepCount { get; private set; }

    /// <inheritdoc />
    public double CurrentLearningRate => options.LearningRate.ValueAt(StepCount);

    /// <summary>The global gradient norm before clipping at the last step (NaN when the options do not clip).</summary>
    public double LastNorm { get; private set; } = double.NaN;

    /// <summary>Applies one update from the parameters' gradients (a parameter without a gradient is treated as having 0).</summary>
    /// <exception cref="InvalidOperationException">The schedule gives a rate that is negative, NaN or infinite; the message names the step.</exception>
    public void Step()
    {
        var step = StepCount + 1;
        var rate = options.LearningRate.ValueAt(step - 1);
        if (!double.IsFinite(rate) || rate < 0)
            throw new InvalidOperationException($"The learning-rate schedule returned {rate} for step {step - 1}; a rate must be finite and non-negative.");
        var beta1 = (float)options.Beta1;
        var beta2 = (float)options.Beta2;
        var oneMinusBeta1 = (float)(1 - options.Beta1);
        var oneMinusBeta2 = (float)(1 - options.Beta2);
        var correction1 = (float)(1 - Math.Pow(options.Beta1, step));
        var correction2 = (float)(1 - Math.Pow(options.Beta2, step));
        var epsilon = (float)options.Epsilon;
        var weightDecay = (float)options.WeightDecay;
        var factor = (float)-rate;

        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var clip = ClipFactor();
        foreach (var entry in entries)
        {
            var gradient = entry.Parameter.grad is { } existing ? existing : zeros_like(entry.Parameter);
            if (clip is { } scale) gradient = gradient * scale;
            entry.FirstMoment.mul_(beta1).add_(gradient * oneMinusBeta1);
            entry.SecondMoment.mul_(beta2).add_(gradient.square() * oneMinusBeta2);
            var update = entry.FirstMoment / correction1 / ((entry.SecondMoment / correction2).sqrt() + epsilon);
            if (entry.Decays && weightDecay != 0) update = update + entry.Parameter * weightDecay;
            entry.Parameter.add_(update * factor);
        }

        StepCount = step;
    }

    /// <inheritdoc />
    public IReadOnlyList<Tensor> StateBuffersOf(Parameter parameter)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        return entries.FirstOrDefault(entry => ReferenceEquals(entry.Parameter, parameter)) is { } found ? [found.FirstMoment, found.SecondMoment] : [];
    }

    /// <inheritdoc />
    public void SaveState(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(Kind);
        writer.Write(StepCount);
        writer.Write(entries.Length);
        foreach (var entry in entries)
        {
            TorchStateIO.Write(writer, entry.FirstMoment);
            TorchStateIO.Write(writer, entry.SecondMoment);
        }
    }

    /// <inheritdoc />
    public void LoadState(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        try
        {
            var kind = reader.ReadString();
            if (kind != Kind) throw new InvalidDataException($"The optimizer state is '{kind}', not {Kind}.");
            var step = reader.ReadInt64();
            if (step < 0) throw new InvalidDataException($"The optimizer state claims {step} steps.");
            var count = reader.ReadInt32();
            if (count != entries.Length) throw new InvalidDataException($"The optimizer state holds {count} parameters; this optimizer has {entries.Length}.");
            foreach (var entry in entries)
            {
                TorchStateIO.Read(reader, entry.FirstMoment);
                TorchStateIO.Read(reader, entry.SecondMoment);
            }

            StepCount = step;
        }
        catch (EndOfStreamException exception)
        {
            throw new InvalidDataException("The optimizer state is truncated.", exception);
        }
    }

    /// <summary>Releases the moment tensors.</summary>
    public void Dispose()
    {
        foreach (var entry in entries)
        {
            entry.FirstMoment.Dispose();
            entry.SecondMoment.Dispose();
        }
    }

    /// <summary><c>c/‖g‖</c> when the options clip and the finite global norm exceeds c; otherwise null (a non-finite norm is left for the caller to see).</summary>
    private float? ClipFactor()
    {
        if (options.ClipNorm is not { } maximum) return null;
        var squares = entries.Where(entry => entry.Parameter.grad is not null).Select(entry => entry.Parameter.grad!.square().sum()).ToArray();
        LastNorm = squares.Length == 0 ? 0 : Math.Sqrt(stack(squares).to_type(ScalarType.Float64).sum().item<double>());
        return double.IsFinite(LastNorm) && LastNorm > maximum ? (float)(maximum / LastNorm) : null;
    }

    private sealed record Entry(Parameter Parameter, bool Decays, Tensor FirstMoment, Tensor SecondMoment);
}
