using Pipelines.Components.Optimization;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Privacy;

/// <summary>
/// One DP-SGD update end to end: Poisson batch, per-example gradients clipped and summed, noise, division by q N, the
/// inner optimizer's update, and the accountant's step.
/// </summary>
/// <remarks>
/// <para>
/// Abadi et al. 2016 (arXiv 1607.00133). The caller supplies one example's gradient at a time (e.g. a model's forward
/// and backward with batch size 1) into <see cref="ParameterArena.Gradients"/>, which this class zeroes before each
/// example; so it needs no per-example hooks in the model, at the price of unbatched passes. Models that can give
/// per-example norms (<see cref="GhostNorms"/>, <see cref="PerExampleNorms"/>) can skip it and use the pieces directly.
/// </para>
/// <para>
/// The optimizer is <c>Chain(NoisyAverage, inner)</c>. Update s (counting from 1, the optimizer's step) samples with
/// stream s of the seed and adds noise from stream s, so a run resumed from the optimizer's state and
/// <see cref="Accountant"/>'s JSON continues exactly. With secure randomness both the batch and the noise come from the
/// operating system's generator.
/// </para>
/// </remarks>
public sealed class DifferentiallyPrivateStep
{
    private readonly ParameterArena arena;
    private readonly ClippedGradientSum clipped;
    private readonly PoissonSampler sampler;

    /// <summary>Prepares DP-SGD over a dataset of N examples with <paramref name="inner"/> (e.g. <c>Chain(ScaleByAdam, ScaleByLearningRate)</c>) after the noisy average.</summary>
    /// <param name="arena">The model's parameters and gradients.</param>
    /// <param name="options">The DP settings (checked against N here).</param>
    /// <param name="datasetSize">N.</param>
    /// <param name="inner">The transform applied to the privatised gradient.</param>
    /// <param name="trainable">The slices trained (and clipped and noised); all of the arena's when null.</param>
    /// <param name="accountant">A restored accountant to continue, or null for a fresh one.</param>
    /// <exception cref="ArgumentOutOfRangeException">delta is not below 1/N, or N is below 1.</exception>
    /// <exception cref="ArgumentException">A seed with secure noise, or none with seeded noise.</exception>
    public DifferentiallyPrivateStep(
        ParameterArena arena, DifferentialPrivacyOptions options, int datasetSize, IGradientTransform inner,
        IReadOnlyList<ParameterSlice>? trainable = null, RdpAccountant? accountant = null)
    {
        this.arena = arena ?? throw new ArgumentNullException(nameof(arena));
        Options = options ?? throw new ArgumentNullException(nameof(options));
        ArgumentNullException.ThrowIfNull(inner);
        sampler = options.Sampler(datasetSize);
        var groups = ClippingGroups.Flat(options.ClipNorm);
        clipped = new ClippedGradientSum(arena, groups, trainable);
        IGradientTransform chain = new Chain(options.NoisyAverage(datasetSize), inner);
        if (trainable is not null)
        {
            var selected = trainable.ToHashSet();
            chain = new Masked(chain, selected.Contains);
        }

        Optimizer = new GradientTransformOptimizer(chain, arena);
        Accountant = accountant ?? new RdpAccountant();
    }

    /// <summary>The settings.</summary>
    public DifferentialPrivacyOptions Options { get; }

    /// <summary>The optimizer (<c>Chain(NoisyAverage, inner)</c>); save its state with the accountant's.</summary>
    public GradientTransformOptimizer Optimizer { get; }

    /// <summary>The privacy spent so far.</summary>
    public RdpAccountant Accountant { get; }

    /// <summary>Runs one update; <paramref name="addExampleGradient"/> must add example i's gradient to the arena's gradients.</summary>
    /// <returns>The realised batch size and how many examples were clipped (for reports; both are not private).</returns>
    public DifferentiallyPrivateStepReport Run(Action<int> addExampleGradient)
    {
        ArgumentNullException.ThrowIfNull(addExampleGradient);
        var step = Optimizer.StepCount + 1;
        var batch = Options.Randomness == NoiseRandomness.Secure ? sampler.SampleSecure() : sampler.SampleStep(Options.Seed!.Value, step);

        clipped.Clear();
        foreach (var example in batch)
        {
            arena.ZeroGradients();
            addExampleGradient(example);
            clipped.Add(arena.Gradients);
        }

        clipped.CopyTo(arena.Gradients);
        Optimizer.Step(arena);
        Accountant.Step(Options.NoiseMultiplier, Options.SamplingRate);
        return new DifferentiallyPrivateStepReport(step, batch.Length, clipped.ClippedCount);
    }

    /// <summary>The (epsilon, delta) spent so far, with the options' delta and conversion.</summary>
    public PrivacySpent PrivacySpent() => Accountant.GetPrivacySpent(Options.Delta, Options.Conversion);
}

/// <summary>What one DP-SGD update did.</summary>
/// <param name="Step">The update's number, counting from 1.</param>
/// <param name="BatchSize">The realised Poisson batch size.</param>
/// <param name="ClippedCount">Examples whose gradient was scaled down.</param>
public sealed record DifferentiallyPrivateStepReport(long Step, int BatchSize, int ClippedCount);
