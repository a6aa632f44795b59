using System.Text.Json;

namespace Pipelines.Components.Privacy;

/// <summary>
/// Tracks the privacy spent by DP-SGD with Poisson sampling, as a history of phases, and reports (epsilon, delta).
/// </summary>
/// <remarks>
/// <para>
/// Renyi DP composes additively: the RDP of the run at order alpha is
/// <c>sum over phases of steps * RDP_step(sigma, q, alpha)</c> (Mironov 2017, arXiv 1702.07476, Proposition 1),
/// with the per-step RDP of <see cref="SubsampledGaussianRdp"/>. epsilon is then the minimum over the orders of
/// the chosen <see cref="EpsilonConversion"/>. A phase may differ from the previous one in sigma and q (a noise
/// schedule, a change of batch size); consecutive steps with the same settings are merged into one phase.
/// </para>
/// <para>
/// The guarantee assumes Poisson sampling; fixed-size shuffled batches break it.
/// The whole state is the history: <see cref="ToState"/> and <see cref="FromState"/> (or the JSON forms) save and
/// restore it exactly, so a resumed run continues the same account.
/// </para>
/// </remarks>
/// <example><c>var accountant = new RdpAccountant(); accountant.Step(1.5, 0.04, 2250); accountant.GetEpsilon(1e-5)</c> is 7.3291.</example>
public sealed class RdpAccountant
{
    private readonly List<PrivacyPhase> history = [];

    /// <summary>Creates an accountant with no privacy spent.</summary>
    public RdpAccountant()
    {
    }

    /// <summary>Creates an accountant that has already run <paramref name="history"/>.</summary>
    public RdpAccountant(IEnumerable<PrivacyPhase> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        foreach (var phase in history)
        {
            ArgumentNullException.ThrowIfNull(phase, nameof(history));
            Step(phase.NoiseMultiplier, phase.SamplingRate, phase.Steps);
        }
    }

    /// <summary>The phases run so far, in order (consecutive identical settings merged).</summary>
    public IReadOnlyList<PrivacyPhase> History => history;

    /// <summary>All steps recorded.</summary>
    public long TotalSteps => history.Sum(phase => phase.Steps);

    /// <summary>Records <paramref name="steps"/> steps with noise multiplier sigma and sampling rate q.</summary>
    /// <exception cref="ArgumentOutOfRangeException">sigma &lt; 0 or not finite, q outside (0, 1], or steps &lt; 0.</exception>
    public void Step(double noiseMultiplier, double samplingRate, long steps = 1)
    {
        PrivacyGuard.NoiseMultiplier(noiseMultiplier, nameof(noiseMultiplier));
        PrivacyGuard.SamplingRate(samplingRate, nameof(samplingRate));
        PrivacyGuard.Steps(steps, nameof(steps));
        if (steps == 0) return;
        if (history.Count > 0 && history[^1] is var last
            && last.NoiseMultiplier.Equals(noiseMultiplier) && last.SamplingRate.Equals(samplingRate))
        {
            history[^1] = new PrivacyPhase(noiseMultiplier, samplingRate, checked(last.Steps + steps));
            return;
        }

        history.Add(new PrivacyPhase(noiseMultiplier, samplingRate, steps));
    }

    /// <summary>The RDP of the whole history at each order (<see cref="RdpOrders.Default"/> when null).</summary>
    public double[] Rdp(IReadOnlyList<double>? orders = null)
    {
        orders = PrivacyGuard.Orders(orders ?? RdpOrders.Default, nameof(orders));
        var total = new double[orders.Count];
        foreach (var phase in history)
        {
            var rdp = phase.Rdp(orders);
            for (var index = 0; index < total.Length; index++) total[index] += rdp[index];
        }

        return total;
    }

    /// <summary>The (epsilon, delta) guarantee of the history, the best order, and whether it is at the edge of the grid.</summary>
    /// <param name="delta">delta in (0, 1).</param>
    /// <param name="conversion">The RDP-to-epsilon conversion; <see cref="EpsilonConversion.Improved"/> (Opacus's) by default.</param>
    /// <param name="orders">The orders to minimise over; <see cref="RdpOrders.Default"/> when null.</param>
    /// <param name="datasetSize">N, when known: delta must then be below 1/N.</param>
    /// <exception cref="ArgumentOutOfRangeException">delta is outside (0, 1) or not below 1/N; an order is not above 1.</exception>
    public PrivacySpent GetPrivacySpent(
        double delta, EpsilonConversion conversion = EpsilonConversion.Improved, IReadOnlyList<double>? orders = null, long? datasetSize = null)
    {
        PrivacyGuard.Delta(delta, nameof(delta), datasetSize);
        orders ??= RdpOrders.Default;
        return RdpConversion.Minimize(Rdp(orders), orders, delta, conversion);
    }

    /// <summary>epsilon of <see cref="GetPrivacySpent"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">As <see cref="GetPrivacySpent"/>.</exception>
    public double GetEpsilon(
        double delta, EpsilonConversion conversion = EpsilonConversion.Improved, IReadOnlyList<double>? orders = null, long? datasetSize = null) =>
        GetPrivacySpent(delta, conversion, orders, datasetSize).Epsilon;

    /// <summary>The guarantee of one phase of <paramref name="steps"/> identical steps.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is outside its range.</exception>
    public static PrivacySpent Compute(
        double noiseMultiplier, double samplingRate, long steps, double delta,
        EpsilonConversion conversion = EpsilonConversion.Improved, IReadOnlyList<double>? orders = null)
    {
        var accountant = new RdpAccountant();
        accountant.Step(noiseMultiplier, samplingRate, steps);
        return accountant.GetPrivacySpent(delta, conversion, orders);
    }

    /// <summary>The accountant's complete state, for a checkpoint.</summary>
    public RdpAccountantState ToState() => new(RdpAccountantState.CurrentVersion, [.. history]);

    /// <summary>An accountant that continues from <paramref name="state"/>.</summary>
    /// <exception cref="InvalidDataException">The state has another version or no history list.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A stored phase holds an invalid value.</exception>
    public static RdpAccountant FromState(RdpAccountantState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Version != RdpAccountantState.CurrentVersion)
            throw new InvalidDataException($"Accountant state version {state.Version} is not the supported version {RdpAccountantState.CurrentVersion}.");
        if (state.History is null) throw new InvalidDataException("The accountant state has no history.");
        return new RdpAccountant(state.History);
    }

    /// <summary>The state as JSON (System.Text.Json; doubles round-trip exactly).</summary>
    public string ToJson() => JsonSerializer.Serialize(ToState());

    /// <summary>An accountant restored from <see cref="ToJson"/>'s output.</summary>
    /// <exception cref="InvalidDataException">The text is not an accountant state.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A stored phase holds an invalid value.</exception>
    public static RdpAccountant FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        RdpAccountantState? state;
        try
        {
            state = JsonSerializer.Deserialize<RdpAccountantState>(json);
        }
        catch (JsonException error)
        {
            throw new InvalidDataException($"Not an accountant state: {error.Message}", error);
        }

        return FromState(state ?? throw new InvalidDataException("The accountant state is null."));
    }
}

/// <summary>The saved form of an <see cref="RdpAccountant"/>: a format version and the history of phases.</summary>
/// <param name="Version">The format version; <see cref="CurrentVersion"/>.</param>
/// <param name="History">The phases, in order.</param>
public sealed record RdpAccountantState(int Version, IReadOnlyList<PrivacyPhase> History)
{
    /// <summary>The version this library writes and reads.</summary>
    public const int CurrentVersion = 1;
}
