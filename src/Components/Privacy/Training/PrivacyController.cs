namespace Pipelines.Components.Privacy;

/// <summary>What sets the clipping norms and the noise multiplier of a private run: fixed (DP-SGD) or a learned policy (<see cref="RldpController"/>).</summary>
/// <remarks>
/// Whatever a controller proposes, the trainer first projects epsilon over the remaining steps and raises the noise
/// until the projection fits the budget (<see cref="NoiseCalibration.EnforceBudget"/>), and the step itself is refused
/// when the accountant says it would exceed the budget, so no controller can break the (epsilon, delta) contract.
/// </remarks>
public abstract record PrivacyController
{
    private protected PrivacyController()
    {
    }

    /// <summary>The clipping norms and the noise multiplier stay as set (plain DP-SGD).</summary>
    public static PrivacyController Fixed { get; } = new FixedPrivacyController();

    /// <summary>The controller's running part for one training run, or null when it never acts.</summary>
    /// <param name="groupCount">G, the clipping groups.</param>
    /// <param name="seed">The seed of the controller's own randomness.</param>
    internal abstract IPrivacyControl? Start(int groupCount, ulong seed);
}

/// <summary>Plain DP-SGD: the settings never change.</summary>
internal sealed record FixedPrivacyController : PrivacyController
{
    internal override IPrivacyControl? Start(int groupCount, ulong seed) => null;

    public override string ToString() => "Fixed";
}

/// <summary>What a controller sees before it acts (statistics of per-example norms are not privatised: see <see cref="RldpController"/>).</summary>
/// <param name="StepsDone">Updates done.</param>
/// <param name="TotalSteps">Updates the run plans.</param>
/// <param name="EpsilonSpent">Epsilon spent so far.</param>
/// <param name="TargetEpsilon">The budget.</param>
/// <param name="ClipNorms">The current C_g.</param>
/// <param name="BaseClipNorms">The C_g the run started with (from the settings).</param>
/// <param name="NoiseMultiplier">The current accounted sigma.</param>
/// <param name="BaseNoiseMultiplier">The sigma calibrated (or given) for the whole run at the start.</param>
/// <param name="GroupNormMedians">Median per-example gradient norm of each group over the steps since the last action (NaN when none was sampled).</param>
/// <param name="ClippedFraction">Fraction of sampled examples clipped since the last action.</param>
/// <param name="Loss">The loss the reward is measured on (validation loss, or mean training loss without validation data).</param>
internal sealed record PrivacyObservation(
    long StepsDone, long TotalSteps, double EpsilonSpent, double TargetEpsilon, IReadOnlyList<double> ClipNorms, IReadOnlyList<double> BaseClipNorms, double NoiseMultiplier,
    double BaseNoiseMultiplier, IReadOnlyList<double> GroupNormMedians, double ClippedFraction, double Loss);

/// <summary>A controller's proposal: the next clipping norms and accounted noise multiplier (the trainer may raise the noise).</summary>
internal sealed record PrivacyAction(IReadOnlyList<double> ClipNorms, double NoiseMultiplier);

/// <summary>A controller's running part.</summary>
internal interface IPrivacyControl
{
    /// <summary>Act every this many steps (at least 1).</summary>
    int Interval { get; }

    /// <summary>Learns from the outcome of its last action (when any) and proposes the next one.</summary>
    PrivacyAction Act(PrivacyObservation observation);

    /// <summary>Writes the controller's state (networks, replay buffer, randomness) for a checkpoint.</summary>
    void SaveState(BinaryWriter writer);

    /// <summary>Restores what <see cref="SaveState"/> wrote.</summary>
    void LoadState(BinaryReader reader);
}
