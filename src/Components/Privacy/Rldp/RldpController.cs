namespace Pipelines.Components.Privacy;

/// <summary>
/// RLDP (arXiv 2507.22565): a Soft Actor-Critic hyper-policy, trained online during the run, that every
/// <see cref="Interval"/> steps sets each group's clipping norm and the noise multiplier.
/// </summary>
/// <remarks>
/// <para>
/// The paper's exact state, reward and SAC settings were not available; these are the project's choices (spec, section 5).
/// State (G + 4 entries): per group <c>log(median ||g_ig|| / C_g)</c> over the steps since the last action (clamped to
/// [-3, 3]), the fraction of sampled examples clipped, progress <c>t / T</c>, budget spent <c>epsilon_t / epsilon</c>,
/// and <c>log(sigma / sigma_0)</c>. Action in <c>[-1, 1]^(G+1)</c>: <c>C_g = C_g0 · ClipRange^a_g</c>,
/// <c>sigma = sigma_0 · NoiseRange^a_sigma</c>, where sigma_0 is the noise calibrated for the whole run. Reward of an
/// action: the decrease of the loss (validation loss when the run has validation data, else the sampled batches' mean
/// training loss) minus <c>PrivacyPenalty · Δepsilon / epsilon</c>. Before an action is applied the trainer projects
/// epsilon over the remaining steps at the proposed sigma and raises it (bisection) until the projection fits the
/// budget, so the (epsilon, delta) contract holds whatever the policy does.
/// </para>
/// <para>
/// Caveat, as in the paper: the state's norm statistics and the training loss are computed from the sampled examples
/// without noise, and the accountant does not charge for them; the guarantee it reports covers the noisy gradient
/// releases. Use a validation set (public data) for the reward and treat the controller's statistics as part of the
/// trusted training process.
/// </para>
/// </remarks>
public sealed record RldpController : PrivacyController
{
    /// <summary>Act every this many steps (default 10).</summary>
    public int Interval { get; init => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Interval), value, "Interval must be at least 1."); } = 10;

    /// <summary>How far a clipping norm may move from its starting value, as a factor above 1 (default 4: C_g in [C_g0 / 4, 4 C_g0]).</summary>
    public double ClipRange { get; init => field = Above(value, 1, nameof(ClipRange)); } = 4;

    /// <summary>How far the proposed noise multiplier may move from the calibrated one, as a factor at least 1 (default 2); the budget may raise it further.</summary>
    public double NoiseRange { get; init => field = value is >= 1 && double.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(nameof(NoiseRange), value, "NoiseRange must be finite and at least 1."); } = 2;

    /// <summary>The reward's price of spending the whole budget, in loss units (default 0.1).</summary>
    public double PrivacyPenalty { get; init => field = value is >= 0 && double.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(nameof(PrivacyPenalty), value, "PrivacyPenalty must be finite and non-negative."); } = 0.1;

    /// <summary>SAC updates after each new transition (default 16).</summary>
    public int UpdatesPerAction { get; init => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(UpdatesPerAction), value, "UpdatesPerAction must be at least 1."); } = 16;

    /// <summary>Width of the actor's and critics' two hidden layers (default 32).</summary>
    public int HiddenSize { get; init => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(HiddenSize), value, "HiddenSize must be at least 1."); } = 32;

    /// <summary>Adam's learning rate of the hyper-policy (default 3e-3).</summary>
    public double LearningRate { get; init => field = Above(value, 0, nameof(LearningRate)); } = 3e-3;

    /// <summary>gamma of the critics (default 0.9).</summary>
    public double Discount { get; init => field = value is >= 0 and < 1 ? value : throw new ArgumentOutOfRangeException(nameof(Discount), value, "Discount must be in [0, 1)."); } = 0.9;

    internal override IPrivacyControl? Start(int groupCount, ulong seed) => new RldpControl(this, groupCount, seed);

    private static double Above(double value, double minimum, string name) =>
        double.IsFinite(value) && value > minimum ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be finite and above {minimum}.");
}
