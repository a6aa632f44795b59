namespace Pipelines.Components.Privacy;

/// <summary>The running RLDP hyper-policy of one training run: builds the state, rewards the last action, updates SAC and proposes the next action.</summary>
internal sealed class RldpControl(RldpController settings, int groupCount, ulong seed) : IPrivacyControl
{
    private const double NormRatioLimit = 3;

    private readonly SoftActorCritic agent = new(
        new SoftActorCriticSettings(groupCount + 4, groupCount + 1, settings.HiddenSize, settings.LearningRate, settings.Discount), seed);

    private double[]? previousState;
    private double[]? previousAction;
    private double previousLoss;
    private double previousEpsilon;

    public int Interval => settings.Interval;

    public PrivacyAction Act(PrivacyObservation observation)
    {
        var state = State(observation);
        if (previousState is not null && previousAction is not null)
        {
            var lossDecrease = double.IsFinite(observation.Loss) && double.IsFinite(previousLoss) ? previousLoss - observation.Loss : 0;
            var reward = lossDecrease - settings.PrivacyPenalty * (observation.EpsilonSpent - previousEpsilon) / observation.TargetEpsilon;
            agent.Remember(previousState, previousAction, reward, state);
            for (var update = 0; update < settings.UpdatesPerAction; update++) agent.Update();
        }

        var action = agent.Act(state);
        (previousState, previousAction, previousLoss, previousEpsilon) = (state, action, observation.Loss, observation.EpsilonSpent);
        var clipNorms = new double[groupCount];
        for (var group = 0; group < groupCount; group++) clipNorms[group] = observation.BaseClipNorms[group] * Math.Pow(settings.ClipRange, action[group]);
        return new PrivacyAction(clipNorms, observation.BaseNoiseMultiplier * Math.Pow(settings.NoiseRange, action[groupCount]));
    }

    public void SaveState(BinaryWriter writer)
    {
        agent.Save(writer);
        writer.Write(previousState is not null);
        if (previousState is null || previousAction is null) return;
        foreach (var value in previousState.Concat(previousAction)) writer.Write(value);
        writer.Write(previousLoss);
        writer.Write(previousEpsilon);
    }

    public void LoadState(BinaryReader reader)
    {
        agent.Load(reader);
        if (!reader.ReadBoolean())
        {
            (previousState, previousAction) = (null, null);
            return;
        }

        previousState = Enumerable.Range(0, groupCount + 4).Select(_ => reader.ReadDouble()).ToArray();
        previousAction = Enumerable.Range(0, groupCount + 1).Select(_ => reader.ReadDouble()).ToArray();
        previousLoss = reader.ReadDouble();
        previousEpsilon = reader.ReadDouble();
    }

    private double[] State(PrivacyObservation observation)
    {
        var state = new double[groupCount + 4];
        for (var group = 0; group < groupCount; group++)
        {
            var ratio = Math.Log(observation.GroupNormMedians[group] / observation.ClipNorms[group]);
            state[group] = double.IsFinite(ratio) ? Math.Clamp(ratio, -NormRatioLimit, NormRatioLimit) : 0;
        }

        state[groupCount] = observation.ClippedFraction;
        state[groupCount + 1] = (double)observation.StepsDone / observation.TotalSteps;
        state[groupCount + 2] = observation.EpsilonSpent / observation.TargetEpsilon;
        var noise = Math.Log(observation.NoiseMultiplier / observation.BaseNoiseMultiplier);
        state[groupCount + 3] = double.IsFinite(noise) ? Math.Clamp(noise, -NormRatioLimit, NormRatioLimit) : 0;
        return state;
    }
}
