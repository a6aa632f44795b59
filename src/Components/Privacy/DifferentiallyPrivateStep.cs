using Pipelines.Components.Optimization;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Privacy;

/// <summary>
/// One DP-SGD update end to end: Poisson batch, per-example gradients clipped and summed, noise, division by q N, the
/// inner optimizer's update, and the accountant's step, within an optional <see cref="PrivacyBudget"/>.
/// </summary>
/// <remarks>
/// <para>
/// Abadi et al. 2016 (arXiv 1607.00133): <c>g~ = (sum_i c_i g_i + N(0, (sigma C)^2 I)) / (q N)</c>. Two routes give the
/// clipped sum. Batched (<see cref="DifferentiallyPrivateStep(IPerExampleClippedGradients, DifferentialPrivacyOptions, IGradientTransform, PrivacyBudget?, RdpAccountant?, int)"/>,
/// <see cref="Run()"/>): a model with per-example support (<see cref="GptPerExampleClipping"/>,
/// <see cref="EncoderPerExampleClipping"/>) clips a whole virtual batch per pass, with its own clipping groups; the
/// accountant gets <c>sigma_eff = sigma / sqrt(G)</c>. Per example (<see cref="Run(Action{int})"/>): the caller adds
/// one example's gradient at a time (batch size one), for models without that support; flat clipping at C.
/// </para>
/// <para>
/// Virtual batches split the sampled batch for memory only: their clipped sums add up before the single noisy
/// update, so accounting is that of one step at rate q; gradients are zeroed at the start of every step, so nothing
/// accumulates across Poisson batches. An empty batch still adds noise and steps the accountant.
/// The optimizer is <c>Chain(NoisyAverage, inner)</c>, masked to the trainable slices. Update s (counting from 1,
/// the optimizer's step) samples with stream s of the seed and adds noise from stream s, so a run resumed with
/// <see cref="SaveState"/> / <see cref="LoadState"/> (optimizer and accountant) continues exactly. With secure
/// randomness both the batch and the noise come from the operating system's generator.
/// </para>
/// </remarks>
public sealed class DifferentiallyPrivateStep
{
    private readonly ParameterArena arena;
    private readonly ClippedGradientSum? clipped;
    private readonly IPerExampleClippedGradients? source;
    private readonly PoissonSampler sampler;
    private readonly double accountedNoiseMultiplier;
    private readonly int maximumChunkSize;

    /// <summary>Prepares DP-SGD over a dataset of N examples with <paramref name="inner"/> (e.g. <c>Chain(ScaleByAdam, ScaleByLearningRate)</c>) after the noisy average; gradients come one example at a time.</summary>
    /// <param name="arena">The model's parameters and gradients.</param>
    /// <param name="options">The DP settings (checked against N here).</param>
    /// <param name="datasetSize">N.</param>
    /// <param name="inner">The transform applied to the privatised gradient.</param>
    /// <param name="trainable">The slices trained (and clipped and noised); all of the arena's when null.</param>
    /// <param name="accountant">A restored accountant to continue, or null for a fresh one.</param>
    /// <param name="budget">The (epsilon, delta) contract, or null for none.</param>
    /// <exception cref="ArgumentOutOfRangeException">delta is not below 1/N, or N is below 1.</exception>
    /// <exception cref="ArgumentException">A seed with secure noise, or none with seeded noise; the budget's delta differs from the options'.</exception>
    public DifferentiallyPrivateStep(
        ParameterArena arena, DifferentialPrivacyOptions options, int datasetSize, IGradientTransform inner,
        IReadOnlyList<ParameterSlice>? trainable = null, RdpAccountant? accountant = null, PrivacyBudget? budget = null)
    {
        this.arena = arena ?? throw new ArgumentNullException(nameof(arena));
        Options = options ?? throw new ArgumentNullException(nameof(options));
        ArgumentNullException.ThrowIfNull(inner);
        sampler = options.Sampler(datasetSize);
        var groups = ClippingGroups.Flat(options.ClipNorm);
        clipped = new ClippedGradientSum(arena, groups, trainable);
        accountedNoiseMultiplier = options.NoiseMultiplier;
        maximumChunkSize = int.MaxValue;
        Budget = CheckBudget(budget, options);
        Optimizer = BuildOptimizer(arena, options.NoisyAverage(datasetSize), inner, trainable?.ToHashSet());
        Accountant = accountant ?? new RdpAccountant();
    }

    /// <summary>Prepares batched DP-SGD: <paramref name="clippedGradients"/> clips each virtual batch of at most <paramref name="maximumChunkSize"/> examples in one pass.</summary>
    /// <param name="clippedGradients">The model bound to its dataset (N = its example count); its groups set the clip norms (the options' ClipNorm is not used).</param>
    /// <param name="options">The DP settings (checked against N here).</param>
    /// <param name="inner">The transform applied to the privatised gradient.</param>
    /// <param name="budget">The (epsilon, delta) contract, or null for none.</param>
    /// <param name="accountant">A restored accountant to continue, or null for a fresh one.</param>
    /// <param name="maximumChunkSize">The most examples per forward and backward pass (memory only; the sampling is unchanged).</param>
    /// <exception cref="ArgumentOutOfRangeException">delta is not below 1/N, N is below 1, or the chunk size is below 1.</exception>
    /// <exception cref="ArgumentException">A seed with secure noise, or none with seeded noise; the budget's delta differs from the options'.</exception>
    public DifferentiallyPrivateStep(
        IPerExampleClippedGradients clippedGradients, DifferentialPrivacyOptions options, IGradientTransform inner,
        PrivacyBudget? budget = null, RdpAccountant? accountant = null, int maximumChunkSize = int.MaxValue)
    {
        source = clippedGradients ?? throw new ArgumentNullException(nameof(clippedGradients));
        Options = options ?? throw new ArgumentNullException(nameof(options));
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentOutOfRangeException.ThrowIfLessThan(maximumChunkSize, 1);
        arena = source.Parameters;
        var datasetSize = source.ExampleCount;
        sampler = options.Sampler(datasetSize);
        this.maximumChunkSize = maximumChunkSize;
        accountedNoiseMultiplier = source.Groups.EffectiveNoiseMultiplier(options.NoiseMultiplier);
        Budget = CheckBudget(budget, options);
        var noisyAverage = PrivacyTransforms.NoisyAverage(source.Groups, options.NoiseMultiplier, options.SamplingRate, datasetSize, options.Randomness, options.Seed);
        Optimizer = BuildOptimizer(arena, noisyAverage, inner, arena.Parameters.Where(source.IsTrainable).ToHashSet());
        Accountant = accountant ?? new RdpAccountant();
    }

    /// <summary>The settings.</summary>
    public DifferentialPrivacyOptions Options { get; }

    /// <summary>A LoRA adapter updated with the base parameters in every step (its clipped sum, noise and optimizer), or null.</summary>
    internal PrivateLoraUpdate? Adapter { get; init; }

    /// <summary>The parameters updated.</summary>
    public ParameterArena Parameters => arena;

    /// <summary>The (epsilon, delta) contract, or null.</summary>
    public PrivacyBudget? Budget { get; }

    /// <summary>The optimizer (<c>Chain(NoisyAverage, inner)</c>); saved with the accountant by <see cref="SaveState"/>.</summary>
    public GradientTransformOptimizer Optimizer { get; }

    /// <summary>The privacy spent so far.</summary>
    public RdpAccountant Accountant { get; private set; }

    /// <summary>The noise multiplier the accountant is given each step (<c>sigma / sqrt(G)</c> with G clipping groups).</summary>
    public double AccountedNoiseMultiplier => accountedNoiseMultiplier;

    /// <summary>Runs one batched update (virtual batches of the sampled Poisson batch through the per-example source).</summary>
    /// <returns>What the step did, with epsilon spent after it; <see cref="DifferentiallyPrivateStepReport.BudgetExhausted"/> when it was refused.</returns>
    /// <exception cref="InvalidOperationException">This step was built for per-example gradients.</exception>
    /// <exception cref="PrivacyBudgetExhaustedException">The budget says Throw and the step would exceed it.</exception>
    public DifferentiallyPrivateStepReport Run()
    {
        if (source is null) throw new InvalidOperationException("This step was built for per-example gradients: call Run(addExampleGradient).");
        return Step(batch =>
        {
            var (clippedCount, normsAreFinite) = (0, true);
            foreach (var chunk in VirtualBatches.Split(batch, maximumChunkSize))
            {
                var report = source.AddClippedGradients(chunk.Span);
                clippedCount += report.ClippedCount;
                normsAreFinite &= report.NormsAreFinite;
            }

            return (clippedCount, normsAreFinite);
        });
    }

    /// <summary>Runs one update; <paramref name="addExampleGradient"/> must add example i's gradient to the arena's gradients.</summary>
    /// <returns>What the step did (batch size and clipped count are not private: report, don't publish).</returns>
    /// <exception cref="InvalidOperationException">This step was built for a batched source.</exception>
    /// <exception cref="PrivacyBudgetExhaustedException">The budget says Throw and the step would exceed it.</exception>
    public DifferentiallyPrivateStepReport Run(Action<int> addExampleGradient)
    {
        ArgumentNullException.ThrowIfNull(addExampleGradient);
        if (clipped is null) throw new InvalidOperationException("This step was built for a batched source: call Run().");
        return Step(batch =>
        {
            clipped.Clear();
            var (norms, normsAreFinite) = (new double[clipped.Groups.Count], true);
            foreach (var example in batch.Span)
            {
                arena.ZeroGradients();
                addExampleGradient(example);
                clipped.Add(arena.Gradients, norms);
                normsAreFinite &= Array.TrueForAll(norms, double.IsFinite);
            }

            clipped.CopyTo(arena.Gradients);
            return (clipped.ClippedCount, normsAreFinite);
        });
    }

    /// <summary>Runs steps until <paramref name="maximumSteps"/> have been taken in all or the budget stops the run.</summary>
    /// <returns>The reports of the steps taken (a refused step is not included).</returns>
    /// <exception cref="ArgumentOutOfRangeException">maximumSteps is negative.</exception>
    /// <exception cref="InvalidOperationException">This step was built for per-example gradients.</exception>
    /// <exception cref="PrivacyBudgetExhaustedException">The budget says Throw and the next step would exceed it.</exception>
    public IReadOnlyList<DifferentiallyPrivateStepReport> RunWithinBudget(long maximumSteps)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maximumSteps);
        if (source is null) throw new InvalidOperationException("RunWithinBudget needs a batched source: call Run(addExampleGradient) in a loop.");
        var reports = new List<DifferentiallyPrivateStepReport>();
        while (Optimizer.StepCount < maximumSteps)
        {
            var report = Run();
            if (report.BudgetExhausted) break;
            reports.Add(report);
        }

        return reports;
    }

    /// <summary>The (epsilon, delta) spent so far, at the budget's delta (or the options') with the options' conversion.</summary>
    public PrivacySpent PrivacySpent() => Accountant.GetPrivacySpent(Budget?.Delta ?? Options.Delta, Options.Conversion);

    /// <summary>Writes the optimizer's state and the accountant's history (as JSON): what a checkpoint needs besides the parameters.</summary>
    public void SaveState(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        Optimizer.SaveState(writer);
        writer.Write(Accountant.ToJson());
    }

    /// <summary>Restores what <see cref="SaveState"/> wrote; the next step continues the saved run exactly.</summary>
    public void LoadState(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        Optimizer.LoadState(reader);
        Accountant = RdpAccountant.FromJson(reader.ReadString());
    }

    private DifferentiallyPrivateStepReport Step(Func<ReadOnlyMemory<int>, (int ClippedCount, bool NormsAreFinite)> addClippedSum)
    {
        var step = Optimizer.StepCount + 1;
        if (Budget is { } budget)
        {
            var projected = new RdpAccountant(Accountant.History);
            projected.Step(accountedNoiseMultiplier, Options.SamplingRate);
            var projectedEpsilon = projected.GetEpsilon(budget.Delta, Options.Conversion);
            if (projectedEpsilon > budget.TargetEpsilon)
            {
                var spent = PrivacySpent().Epsilon;
                if (budget.OnExhausted == OnBudgetExhausted.Throw) throw new PrivacyBudgetExhaustedException(spent, projectedEpsilon, budget.TargetEpsilon);
                return new DifferentiallyPrivateStepReport(step, 0, 0, spent, BudgetExhausted: true);
            }
        }

        var batch = Options.Randomness == NoiseRandomness.Secure ? sampler.SampleSecure() : sampler.SampleStep(Options.Seed!.Value, step);
        arena.ZeroGradients();
        Adapter?.BeginStep();
        var (clippedCount, normsAreFinite) = addClippedSum(batch);
        Optimizer.Step(arena);
        Adapter?.EndStep();
        Accountant.Step(accountedNoiseMultiplier, Options.SamplingRate);
        return new DifferentiallyPrivateStepReport(step, batch.Length, clippedCount, PrivacySpent().Epsilon, NormsAreFinite: normsAreFinite);
    }

    private static PrivacyBudget? CheckBudget(PrivacyBudget? budget, DifferentialPrivacyOptions options)
    {
        if (budget is not null && budget.Delta != options.Delta)
            throw new ArgumentException($"The budget's delta {budget.Delta:G6} differs from the options' Delta {options.Delta:G6}.", nameof(budget));
        return budget;
    }

    private static GradientTransformOptimizer BuildOptimizer(ParameterArena arena, IGradientTransform noisyAverage, IGradientTransform inner, HashSet<ParameterSlice>? trainable)
    {
        IGradientTransform chain = new Chain(noisyAverage, inner);
        if (trainable is not null) chain = new Masked(chain, trainable.Contains);
        return new GradientTransformOptimizer(chain, arena);
    }
}

/// <summary>What one DP-SGD update did.</summary>
/// <param name="Step">The update's number, counting from 1.</param>
/// <param name="BatchSize">The realised Poisson batch size.</param>
/// <param name="ClippedCount">Examples whose gradient was scaled down.</param>
/// <param name="Epsilon">Epsilon spent after the step (at the budget's or the options' delta); NaN when not computed.</param>
/// <param name="BudgetExhausted">The step was refused because it would have exceeded the budget; nothing changed.</param>
/// <param name="NormsAreFinite">Every sampled example's gradient norm was finite (true for an empty batch).</param>
public sealed record DifferentiallyPrivateStepReport(
    long Step, int BatchSize, int ClippedCount, double Epsilon = double.NaN, bool BudgetExhausted = false, bool NormsAreFinite = true);
