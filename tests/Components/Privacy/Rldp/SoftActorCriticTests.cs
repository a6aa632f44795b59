using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Privacy;

namespace Pipelines.Components.Tests.Privacy.Rldp;

/// <summary>The SAC hyper-policy learns a one-step bandit, is deterministic for a seed, and resumes from its saved state exactly.</summary>
[TestClass]
public sealed class SoftActorCriticTests
{
    private static readonly SoftActorCriticSettings Bandit = new(StateSize: 1, ActionSize: 1, Discount: 0);

    /// <summary>Reward -(a - 0.5)^2: the best action is 0.5.</summary>
    private static double Reward(double action) => -(action - 0.5) * (action - 0.5);

    private static SoftActorCritic Train(ulong seed, int rounds)
    {
        var agent = new SoftActorCritic(Bandit, seed);
        double[] state = [0];
        for (var round = 0; round < rounds; round++)
        {
            var action = agent.Act(state);
            agent.Remember(state, action, Reward(action[0]), state);
            agent.Update();
        }

        return agent;
    }

    [TestMethod]
    public void SacLearnsTheBestActionOfABandit()
    {
        foreach (var seed in new ulong[] { 3, 4, 5, 6 })
        {
            var untrained = new SoftActorCritic(Bandit, seed).Act([0], deterministic: true)[0];
            var learned = Train(seed, rounds: 400).Act([0], deterministic: true)[0];
            Assert.AreEqual(0.5, learned, 0.1, $"seed {seed}: learned {learned}, untrained {untrained}");
        }
    }

    [TestMethod]
    public void TheSameSeedGivesTheSameBitsAndASavedAgentContinuesExactly()
    {
        var first = Train(8, rounds: 60);
        var second = Train(8, rounds: 60);
        CollectionAssert.AreEqual(first.Act([0]), second.Act([0]), "same seed, same sampled action");
        Assert.AreNotEqual(first.Act([0], deterministic: true)[0], Train(9, rounds: 60).Act([0], deterministic: true)[0], "another seed, another policy");

        var saved = new MemoryStream();
        using (var writer = new BinaryWriter(saved, System.Text.Encoding.UTF8, leaveOpen: true)) first.Save(writer);
        saved.Position = 0;
        var restored = new SoftActorCritic(Bandit, 1234);
        using (var reader = new BinaryReader(saved)) restored.Load(reader);
        for (var round = 0; round < 5; round++)
        {
            foreach (var agent in new[] { second, restored })
            {
                var action = agent.Act([0]);
                agent.Remember([0], action, Reward(action[0]), [0]);
                agent.Update();
            }
        }

        CollectionAssert.AreEqual(second.Act([0]), restored.Act([0]), "the restored agent continues the original's run");
        Assert.AreEqual(second.Temperature, restored.Temperature);
    }
}
