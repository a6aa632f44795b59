using Pipelines.Components.Compute;

namespace Pipelines.Components.Privacy;

/// <summary>The settings of <see cref="SoftActorCritic"/>.</summary>
/// <param name="StateSize">Entries of the state vector.</param>
/// <param name="ActionSize">Entries of the action, each in [-1, 1].</param>
/// <param name="HiddenSize">Width of the two hidden layers of actor and critics.</param>
/// <param name="LearningRate">Adam's rate for actor, critics and the temperature.</param>
/// <param name="Discount">gamma of the critics' target.</param>
/// <param name="TargetSmoothing">tau of the target critics' Polyak averaging.</param>
/// <param name="BatchSize">Transitions per update, drawn with replacement from the replay buffer.</param>
/// <param name="InitialTemperature">alpha before tuning.</param>
internal sealed record SoftActorCriticSettings(
    int StateSize, int ActionSize, int HiddenSize = 32, double LearningRate = 3e-3, double Discount = 0.9, double TargetSmoothing = 0.05,
    int BatchSize = 32, double InitialTemperature = 0.1);

/// <summary>
/// Soft Actor-Critic (Haarnoja et al. 2018, arXiv 1801.01290 and 1812.05905): a tanh-squashed Gaussian actor, twin
/// critics with Polyak-averaged targets, and the entropy temperature tuned toward a target entropy of <c>-|A|</c>.
/// </summary>
/// <remarks>
/// <para>Critics: <c>y = r + gamma (min_j Q'_j(s', a') - alpha log pi(a'|s'))</c>, <c>a' ~ pi(.|s')</c>; loss <c>(Q_j(s, a) - y)^2</c>.</para>
/// <para>Actor: <c>a = tanh(mu + sigma eps)</c>, loss <c>alpha log pi(a|s) - min_j Q_j(s, a)</c> with
/// <c>log pi = sum_k [log N(eps_k) - log sigma_k - log(1 - a_k^2 + 1e-6)]</c>, log sigma clamped to [-5, 2].</para>
/// <para>Temperature: <c>log alpha -= lr * (-(log pi + target entropy))</c> averaged over the batch. Transitions are kept in
/// full (the hyper-policy sees tens to hundreds of them). Deterministic for a seed.</para>
/// </remarks>
internal sealed class SoftActorCritic
{
    private const double LogStdMinimum = -5;
    private const double LogStdMaximum = 2;
    private const double SquashEpsilon = 1e-6;

    private readonly SoftActorCriticSettings settings;
    private readonly PolicyNetwork actor;
    private readonly PolicyNetwork[] critics;
    private readonly PolicyNetwork[] targets;
    private readonly List<Transition> replay = [];
    private readonly SeededRandom random;
    private double logTemperature;

    public SoftActorCritic(SoftActorCriticSettings settings, ulong seed)
    {
        this.settings = settings ?? throw new ArgumentNullException(nameof(settings));
        random = new SeededRandom(seed);
        var hidden = settings.HiddenSize;
        actor = new PolicyNetwork([settings.StateSize, hidden, hidden, 2 * settings.ActionSize], random);
        int[] criticSizes = [settings.StateSize + settings.ActionSize, hidden, hidden, 1];
        critics = [new PolicyNetwork(criticSizes, random), new PolicyNetwork(criticSizes, random)];
        targets = [new PolicyNetwork(criticSizes, random), new PolicyNetwork(criticSizes, random)];
        for (var index = 0; index < 2; index++) targets[index].MoveToward(critics[index], 1);
        logTemperature = Math.Log(settings.InitialTemperature);
    }

    /// <summary>alpha, the entropy temperature.</summary>
    public double Temperature => Math.Exp(logTemperature);

    /// <summary>Transitions stored.</summary>
    public int TransitionCount => replay.Count;

    /// <summary>An action for <paramref name="state"/>: sampled from the policy, or its mean <c>tanh(mu)</c> when <paramref name="deterministic"/>.</summary>
    public double[] Act(ReadOnlySpan<double> state, bool deterministic = false) => Sample(state, deterministic).Action;

    /// <summary>Stores a transition.</summary>
    public void Remember(double[] state, double[] action, double reward, double[] nextState) =>
        replay.Add(new Transition([.. state], [.. action], reward, [.. nextState]));

    /// <summary>One update of critics, actor and temperature on a batch drawn from the replay buffer (nothing when it is empty).</summary>
    public void Update()
    {
        if (replay.Count == 0) return;
        var batch = Enumerable.Range(0, settings.BatchSize).Select(_ => replay[random.NextInt32(replay.Count)]).ToArray();
        var scale = 1.0 / batch.Length;
        var temperature = Temperature;
        foreach (var transition in batch)
        {
            var next = Sample(transition.NextState, deterministic: false);
            var nextInput = Concatenate(transition.NextState, next.Action);
            var nextValue = Math.Min(targets[0].Forward(nextInput)[^1][0], targets[1].Forward(nextInput)[^1][0]) - temperature * next.LogProbability;
            var target = transition.Reward + settings.Discount * nextValue;
            var input = Concatenate(transition.State, transition.Action);
            foreach (var critic in critics)
            {
                var trace = critic.Forward(input);
                critic.Backward(trace, [2 * (trace[^1][0] - target) * scale]);
            }
        }

        foreach (var critic in critics) critic.AdamStep(settings.LearningRate);

        double logProbabilitySum = 0;
        foreach (var transition in batch)
        {
            var sample = Sample(transition.State, deterministic: false);
            logProbabilitySum += sample.LogProbability;
            var input = Concatenate(transition.State, sample.Action);
            var traces = critics.Select(critic => critic.Forward(input)).ToArray();
            var lower = traces[0][^1][0] <= traces[1][^1][0] ? 0 : 1;
            var inputGradient = critics[lower].Backward(traces[lower], [1.0]); // dQ/d(s, a)
            var actions = settings.ActionSize;
            var outputGradient = new double[2 * actions];
            for (var k = 0; k < actions; k++)
            {
                var a = sample.Action[k];
                var squash = 1 - a * a;
                var dLossDu = -inputGradient[settings.StateSize + k] * squash + temperature * 2 * a * squash / (squash + SquashEpsilon);
                outputGradient[k] = dLossDu * scale;
                outputGradient[actions + k] = sample.LogStdClamped[k] ? 0 : (dLossDu * sample.Std[k] * sample.Noise[k] - temperature) * scale;
            }

            actor.Backward(sample.Trace, outputGradient);
        }

        foreach (var critic in critics) critic.ZeroGradients(); // the actor's pass through the critics trains only the actor
        actor.AdamStep(settings.LearningRate);
        logTemperature -= settings.LearningRate * -(logProbabilitySum * scale - settings.ActionSize); // target entropy -|A|
        for (var index = 0; index < 2; index++) targets[index].MoveToward(critics[index], settings.TargetSmoothing);
    }

    /// <summary>Writes networks, temperature, replay buffer and the random state.</summary>
    public void Save(BinaryWriter writer)
    {
        actor.Save(writer);
        foreach (var network in critics.Concat(targets)) network.Save(writer);
        writer.Write(logTemperature);
        writer.Write(random.State);
        writer.Write(replay.Count);
        foreach (var transition in replay)
        {
            foreach (var value in transition.State.Concat(transition.Action).Concat(transition.NextState)) writer.Write(value);
            writer.Write(transition.Reward);
        }
    }

    /// <summary>Restores what <see cref="Save"/> wrote.</summary>
    public void Load(BinaryReader reader)
    {
        actor.Load(reader);
        foreach (var network in critics.Concat(targets)) network.Load(reader);
        logTemperature = reader.ReadDouble();
        random.State = reader.ReadUInt64();
        replay.Clear();
        var count = reader.ReadInt32();
        double[] Read(int length) => Enumerable.Range(0, length).Select(_ => reader.ReadDouble()).ToArray();
        for (var index = 0; index < count; index++)
        {
            var (state, action, next) = (Read(settings.StateSize), Read(settings.ActionSize), Read(settings.StateSize));
            replay.Add(new Transition(state, action, reader.ReadDouble(), next));
        }
    }

    private PolicySample Sample(ReadOnlySpan<double> state, bool deterministic)
    {
        var trace = actor.Forward(state);
        var output = trace[^1];
        var actions = settings.ActionSize;
        var (action, std, noise, clamped) = (new double[actions], new double[actions], new double[actions], new bool[actions]);
        double logProbability = 0;
        for (var k = 0; k < actions; k++)
        {
            var logStd = output[actions + k];
            clamped[k] = logStd < LogStdMinimum || logStd > LogStdMaximum;
            logStd = Math.Clamp(logStd, LogStdMinimum, LogStdMaximum);
            std[k] = Math.Exp(logStd);
            noise[k] = deterministic ? 0 : random.NextGaussian();
            var a = Math.Tanh(output[k] + std[k] * noise[k]);
            action[k] = a;
            logProbability += -0.5 * noise[k] * noise[k] - 0.5 * Math.Log(2 * Math.PI) - logStd - Math.Log(1 - a * a + SquashEpsilon);
        }

        return new PolicySample(action, logProbability, std, noise, clamped, trace);
    }

    private static double[] Concatenate(double[] state, double[] action) => [.. state, .. action];

    private sealed record Transition(double[] State, double[] Action, double Reward, double[] NextState);

    private sealed record PolicySample(double[] Action, double LogProbability, double[] Std, double[] Noise, bool[] LogStdClamped, double[][] Trace);
}
