namespace Pipelines.Components.Privacy;

/// <summary>How clipping groups are formed in private fine-tuning.</summary>
public enum ClippingLayout
{
    /// <summary>One norm over every trainable parameter, clipped at C.</summary>
    Flat,

    /// <summary>One group per layer (embeddings, each block, final norm with the head), each clipped at <c>C / sqrt(G)</c> so the whole step's sensitivity stays C.</summary>
    PerLayer,
}

/// <summary>
/// Differentially private fine-tuning (DP-SGD) with an (epsilon, delta) budget as a contract: the one privacy setting of a
/// training estimator (<c>TextClassificationOptions.Privacy</c>).
/// </summary>
/// <remarks>
/// <para>
/// DP-SGD (Abadi et al. 2016, arXiv 1607.00133): each example joins a step's batch independently with probability q
/// (Poisson sampling replaces shuffled batches), its gradient is clipped, <c>c_i = min(1, C / (||g_i|| + 1e-6))</c>
/// (per group with <see cref="ClippingLayout.PerLayer"/>), and the update uses
/// <c>g~ = (sum_i c_i g_i + N(0, (sigma C)^2 I)) / (q N)</c>, divided by the expected batch size.
/// </para>
/// <para>
/// Accounting: Renyi DP of the Poisson-subsampled Gaussian (Mironov 2017, arXiv 1702.07476; Mironov, Talwar and Zhang
/// 2019, arXiv 1908.10530), converted to (epsilon, delta). When <see cref="NoiseMultiplier"/> is null, sigma is the
/// smallest (within 0.01 of epsilon) that lets the run's steps reach <see cref="TargetEpsilon"/>. Before every step the
/// accountant is advanced on a copy; a step whose epsilon would exceed the target is not taken
/// (<see cref="OnExhausted"/> says whether training then stops or throws).
/// </para>
/// <para>
/// Each value is checked when it is set (<see cref="ArgumentOutOfRangeException"/> naming the option and the value);
/// the checks that need the dataset size N (delta below 1/N, q = B/N at most 1) run when training starts. Defaults:
/// delta 1e-5, C = 1, flat clipping, q = batch size / N, stop on exhaustion, secure noise, the improved conversion,
/// the fixed controller <b>(our choices; Opacus's tutorials use C = 1)</b>. Example: <c>samples/PrivateFineTune</c>.
/// </para>
/// </remarks>
public sealed record DifferentialPrivacy
{
    /// <summary>A private run whose epsilon at <see cref="Delta"/> never exceeds <paramref name="targetEpsilon"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">epsilon is not finite and positive.</exception>
    public DifferentialPrivacy(double targetEpsilon) => TargetEpsilon = targetEpsilon;

    /// <summary>The budget epsilon, finite and above 0.</summary>
    public double TargetEpsilon { get; init => field = PrivacyGuard.Epsilon(value, nameof(TargetEpsilon)); }

    /// <summary>delta of the guarantee, in (0, 1) and below 1/N (default 1e-5).</summary>
    public double Delta { get; init => field = PrivacyGuard.Delta(value, nameof(Delta)); } = 1e-5;

    /// <summary>C, the per-example clipping norm of the whole gradient, above 0 (default 1).</summary>
    public double ClipNorm { get; init => field = PrivacyGuard.ClipNorm(value, nameof(ClipNorm)); } = 1;

    /// <summary>Flat or per-layer clipping (default flat).</summary>
    public ClippingLayout Clipping
    {
        get;
        init => field = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(Clipping), value, "Choose Flat or PerLayer.");
    }

    /// <summary>
    /// sigma of the accounted Gaussian mechanism, at least 0; null (the default) calibrates it from
    /// <see cref="TargetEpsilon"/> over the run's steps. With G per-layer groups each group gets noise
    /// <c>N(0, (sigma sqrt(G) C_g)^2)</c>, so the accountant's <c>(sum_g sigma_g^-2)^(-1/2)</c> is this sigma.
    /// </summary>
    public double? NoiseMultiplier { get; init => field = value is { } sigma ? PrivacyGuard.NoiseMultiplier(sigma, nameof(NoiseMultiplier)) : null; }

    /// <summary>q, each example's probability of joining a step, in (0, 1]; null (the default) takes batch size / N.</summary>
    public double? SamplingRate { get; init => field = value is { } rate ? PrivacyGuard.SamplingRate(rate, nameof(SamplingRate)) : null; }

    /// <summary>What happens when the next step would exceed the budget (default <see cref="OnBudgetExhausted.Stop"/>).</summary>
    public OnBudgetExhausted OnExhausted
    {
        get;
        init => field = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(OnExhausted), value, "Choose Stop or Throw.");
    } = OnBudgetExhausted.Stop;

    /// <summary>Where the noise and the batches' randomness come from (default <see cref="NoiseRandomness.Secure"/>, the operating system's generator).</summary>
    public NoiseRandomness Randomness
    {
        get;
        init => field = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(Randomness), value, "Choose Secure or Seeded.");
    } = NoiseRandomness.Secure;

    /// <summary>The seed of seeded noise and sampling (reproducible runs, tests); must be null with secure noise.</summary>
    public ulong? Seed { get; init; }

    /// <summary>The RDP-to-(epsilon, delta) conversion (default <see cref="EpsilonConversion.Improved"/>).</summary>
    public EpsilonConversion Conversion
    {
        get;
        init => field = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(Conversion), value, "Unknown conversion.");
    } = EpsilonConversion.Improved;

    /// <summary>The most examples per forward and backward pass (virtual batches: memory only, the sampling is unchanged; default 64).</summary>
    public int MaximumChunkSize
    {
        get;
        init => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(MaximumChunkSize), value, "MaximumChunkSize must be at least 1.");
    } = 64;

    /// <summary>What sets the clip norms and the noise during training (default <see cref="PrivacyController.Fixed"/>; <see cref="RldpController"/> for RLDP).</summary>
    public PrivacyController Controller { get; init => field = value ?? throw new ArgumentNullException(nameof(Controller)); } = PrivacyController.Fixed;

    /// <summary>Checks what does not need the data: a seed exactly when the noise is seeded.</summary>
    /// <exception cref="ArgumentException">A seed with secure noise, or none with seeded noise.</exception>
    public void Validate() => GaussianSources.Create(Randomness, Seed);

    /// <summary>The sampling rate of a run over N examples with batch size B: <see cref="SamplingRate"/>, or B / N; checks delta &lt; 1/N and q in (0, 1].</summary>
    /// <exception cref="ArgumentOutOfRangeException">delta is not below 1/N, or B / N is above 1.</exception>
    /// <exception cref="ArgumentException">As <see cref="Validate()"/>.</exception>
    public double ResolveSamplingRate(int datasetSize, int batchSize)
    {
        Validate();
        PrivacyGuard.Delta(Delta, nameof(Delta), datasetSize);
        if (SamplingRate is { } rate) return rate;
        var expected = (double)batchSize / datasetSize;
        if (expected > 1)
            throw new ArgumentOutOfRangeException(nameof(SamplingRate), expected,
                $"The sampling rate q = batch size / N = {batchSize} / {datasetSize} = {expected:G4} is above 1: lower the batch size or set SamplingRate.");
        return expected;
    }
}
