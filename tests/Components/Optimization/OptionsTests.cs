using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Optimization;

namespace Pipelines.Components.Tests.Optimization;

/// <summary>Bad hyperparameters throw <see cref="ArgumentOutOfRangeException"/> naming the option and the value.</summary>
[TestClass]
public sealed class OptionsTests
{
    [TestMethod]
    [DataRow("LearningRate", -0.1)]
    [DataRow("LearningRate", double.NaN)]
    [DataRow("LearningRate", double.PositiveInfinity)]
    [DataRow("Beta1", 1.0)]
    [DataRow("Beta1", -0.1)]
    [DataRow("Beta1", double.NaN)]
    [DataRow("Beta2", 1.0)]
    [DataRow("Epsilon", 0.0)]
    [DataRow("Epsilon", -1e-8)]
    [DataRow("WeightDecay", -0.01)]
    [DataRow("WeightDecay", double.NaN)]
    [DataRow("ClipNorm", 0.0)]
    public void AdamWRejects(string option, double value) =>
        Expect(option, value, () => Optimizers.AdamW(Adam(option, value)));

    [TestMethod]
    [DataRow("LearningRate", -1.0)]
    [DataRow("Beta1", 1.5)]
    [DataRow("Beta2", 1.0)]
    [DataRow("Gamma", -0.1)]
    [DataRow("Gamma", double.NaN)]
    [DataRow("WeightDecay", -0.2)]
    public void FocusRejects(string option, double value) =>
        Expect(option, value, () => Optimizers.Focus(
            learningRate: option == "LearningRate" ? value : 0.01,
            beta1: option == "Beta1" ? value : 0.9,
            beta2: option == "Beta2" ? value : 0.999,
            gamma: option == "Gamma" ? value : 0.1,
            weightDecay: option == "WeightDecay" ? value : 0));

    [TestMethod]
    [DataRow("LearningRate", double.NaN)]
    [DataRow("Beta1", 1.0)]
    [DataRow("WeightDecay", -1.0)]
    public void SignumRejects(string option, double value) =>
        Expect(option, value, () => Optimizers.Signum(
            learningRate: option == "LearningRate" ? value : 0.01,
            beta1: option == "Beta1" ? value : 0.9,
            weightDecay: option == "WeightDecay" ? value : 0));

    [TestMethod]
    [DataRow("LearningRate", -0.5)]
    [DataRow("Momentum", 1.0)]
    [DataRow("Momentum", -0.5)]
    public void SgdRejects(string option, double value) =>
        Expect(option, value, () => Optimizers.Sgd(
            learningRate: option == "LearningRate" ? value : 0.01,
            momentum: option == "Momentum" ? value : 0));

    [TestMethod]
    public void NesterovWithoutMomentumIsRejected() =>
        Assert.ThrowsExactly<ArgumentException>(() => Optimizers.Sgd(0.1, momentum: 0, nesterov: true));

    [TestMethod]
    public void AnUnknownPlacementIsRejected()
    {
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new FocusOptions(0.1) { Placement = (FocusWeightDecayPlacement)7 });
        Assert.AreEqual("Placement", error.ParamName);
    }

    [TestMethod]
    public void BuildingBlocksValidateTheirArguments()
    {
        Assert.AreEqual("beta2", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ScaleByAdam(0.9, 1.0)).ParamName);
        Assert.AreEqual("maxNorm", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ClipByGlobalNorm(double.NaN)).ParamName);
        Assert.AreEqual("weightDecay", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new AddDecayedWeights(-1)).ParamName);
        Assert.AreEqual("decay", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new TraceMomentum(1)).ParamName);
        Assert.AreEqual("learningRate", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ScaleByLearningRate(-1)).ParamName);
        Assert.ThrowsExactly<ArgumentException>(() => new Chain());
    }

    [TestMethod]
    public void DefaultsAreThePapers()
    {
        var adam = new AdamWOptions(1e-3);
        var focus = new FocusOptions(1e-2);
        var gpt2 = FocusOptions.Gpt2(adam.LearningRate);

        Assert.AreEqual((0.9, 0.999, 1e-8, 0.01), (adam.Beta1, adam.Beta2, adam.Epsilon, adam.WeightDecay));
        Assert.AreEqual((0.9, 0.999, 0.1, 0.0), (focus.Beta1, focus.Beta2, focus.Gamma, focus.WeightDecay));
        Assert.AreEqual(FocusWeightDecayPlacement.TowardEmaBeforeStep, focus.Placement);
        Assert.AreEqual((0.99, 0.2, 0.2), (gpt2.Beta2, gpt2.Gamma, gpt2.WeightDecay));
        Assert.AreSame(Optimizers.DecayMatrices, focus.Decays);
    }

    private static AdamWOptions Adam(string option, double value)
    {
        var options = option == "LearningRate" ? new AdamWOptions(value) : new AdamWOptions(1e-3);
        return option switch
        {
            "Beta1" => options with { Beta1 = value },
            "Beta2" => options with { Beta2 = value },
            "Epsilon" => options with { Epsilon = value },
            "WeightDecay" => options with { WeightDecay = value },
            "ClipNorm" => options with { ClipNorm = value },
            _ => options,
        };
    }

    private static void Expect(string option, double value, Action action)
    {
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(action);
        Assert.AreEqual(option, error.ParamName);
        Assert.AreEqual(value, error.ActualValue);
    }
}
