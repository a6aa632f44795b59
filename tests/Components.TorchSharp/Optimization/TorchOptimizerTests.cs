using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Sparsity;
using Pipelines.Components.Tensors;
using Pipelines.Components.TorchSharp.Optimization;
using Pipelines.Components.TorchSharp.Tests.Support;
using static TorchSharp.torch;

namespace Pipelines.Components.TorchSharp.Tests.Optimization;

/// <summary>
/// TorchOptimizer against GradientTransformOptimizer: 20 steps of each optimizer chain on a small GPT, from the same
/// weights and the same gradients each step, give the same weights within 1e-4 relative (floor: 1% of each tensor's
/// largest magnitude). Each case also runs a variant that differs in one choice (a hyperparameter, a placement, a
/// transform left out) and checks that it fails the same comparison, so the agreement is not vacuous.
/// </summary>
/// <remarks>
/// The sign methods (Signum, FOCUS) turn a rounding difference in a momentum near 0 into a step of lr. Both backends
/// see bit-identical gradients and evaluate the one shared formula with the same float operations in the same order
/// (on the CPU each tensor operation rounds as the managed one), so the momenta agree to the last bit or nearly, and a
/// flip needs a momentum within a few ulps of 0. The comparison is element by element at 1e-4 relative, so a single flip
/// of a weight above the floor would fail the test; the printed worst errors show how far from that the runs are.
/// </remarks>
[TestClass]
public sealed class TorchOptimizerTests
{
    private const int Steps = 20;
    private const int BatchSize = 2;
    private const int TokenCount = 8;
    private static readonly TransformerConfig Small = new(layerCount: 2, headCount: 2, channels: 16, contextLength: 8, vocabularySize: 23);

    public TestContext TestContext { get; set; } = null!;

    /// <summary>An optimizer chain made for an arena (masks need it), and a variant of it that must not match.</summary>
    public sealed record Case(string Name, Func<ParameterArena, IGradientTransform> Chain, Func<ParameterArena, IGradientTransform> Variant, string VariantIs)
    {
        public override string ToString() => Name;
    }

    private static readonly Func<ParameterSlice, bool> Norms = slice => slice.Role is ParameterRole.NormScale or ParameterRole.NormShift;

    public static IEnumerable<object[]> Cases() => new Case[]
    {
        new("AdamW", _ => Optimizers.AdamW(3e-2, weightDecay: 0.1), _ => Optimizers.AdamW(3e-2, weightDecay: 0.12), "weight decay 0.12"),
        new("AdamW clipped", _ => Optimizers.AdamW(3e-2, weightDecay: 0.1, clipNorm: 0.05), _ => Optimizers.AdamW(3e-2, weightDecay: 0.1), "not clipped"),
        new("Signum", _ => Optimizers.Signum(1e-2), _ => Optimizers.Signum(1e-2, beta1: 0.8), "beta1 0.8"),
        new("Signum decayed", _ => Optimizers.Signum(1e-2, weightDecay: 0.5), _ => Optimizers.Signum(1e-2), "no decay"),
        Focus(FocusWeightDecayPlacement.TowardEmaBeforeStep, FocusWeightDecayPlacement.TowardEmaAfterStep),
        Focus(FocusWeightDecayPlacement.TowardEmaAfterStep, FocusWeightDecayPlacement.TowardEmaBeforeStep),
        Focus(FocusWeightDecayPlacement.Plain, FocusWeightDecayPlacement.TowardEmaAfterStep),
        new("SGD", _ => Optimizers.Sgd(0.1), _ => Optimizers.Sgd(0.11), "rate 0.11"),
        new("SGD momentum", _ => Optimizers.Sgd(0.05, momentum: 0.9), _ => Optimizers.Sgd(0.05, momentum: 0.9, nesterov: true), "Nesterov"),
        new("SGD Nesterov", _ => Optimizers.Sgd(0.05, momentum: 0.9, nesterov: true), _ => Optimizers.Sgd(0.05, momentum: 0.8, nesterov: true), "momentum 0.8"),
        new("Masked Adam on matrices", _ => new Chain(new Masked(new ScaleByAdam(), Optimizers.DecayMatrices), new ScaleByLearningRate(1e-2)),
            _ => new Chain(new ScaleByAdam(), new ScaleByLearningRate(1e-2)), "Adam on every parameter"),
        new("Freeze norms", _ => new Chain(Optimizers.AdamW(1e-2), new Freeze(Norms)), _ => Optimizers.AdamW(1e-2), "nothing frozen"),
        new("MultiTransform FOCUS and SGD", _ => TwoGroups(0.05), _ => TwoGroups(0.06), "the SGD group's rate 0.06"),
        new("AdamW then ApplyMask", arena => new Chain(Optimizers.AdamW(1e-2, weightDecay: 0.1), new ApplyMaskTransform(PrunedMask(arena))),
            _ => Optimizers.AdamW(1e-2, weightDecay: 0.1), "no mask"),
    }.Select(@case => new object[] { @case });

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void TwentyStepsMatchTheManagedChainAndTheVariantDoesNot(Case @case)
    {
        var matching = Compare(@case.Chain, @case.Chain, out var device);
        matching.Summarize($"{@case.Name}: weights after {Steps} steps");
        if (@case.Name.Contains("clipped", StringComparison.Ordinal)) Assert.IsGreaterThan(0.05, device.LastNorm, "the clip must act");

        var variant = Compare(@case.Chain, @case.Variant, out _);
        TestContext.WriteLine($"variant ({@case.VariantIs}): {variant.Failures} tensors differ");
        Assert.IsGreaterThan(0, variant.Failures, $"{@case.Name} with {@case.VariantIs} on the device must not match the managed chain.");
    }

    /// <summary>The pruned entries stay where they were; a mask changed between steps (its version moves) is copied to the device again.</summary>
    [TestMethod]
    public void ApplyMaskKeepsPrunedWeightsAndFollowsANewMask()
    {
        var managed = Model(out var module);
        using var _ = module;
        var mask = new PruningMask(managed.Parameters);
        var slice = mask.PrunableSlices[0];
        mask.Prune(slice, [0, 1, 2]);
        using var optimizer = new TorchOptimizer(module, managed.Parameters, new Chain(Optimizers.Sgd(0.1), new ApplyMaskTransform(mask)));
        var parameter = module.named_parameters().First(pair => pair.name == slice.Name).parameter;
        var before = TorchParameters.ToSingleArray(parameter);
        GradientStep(managed, module, optimizer, 0);
        mask.Prune(slice, [5]);
        GradientStep(managed, module, optimizer, 1);
        var after = TorchParameters.ToSingleArray(parameter);
        foreach (var index in new[] { 0, 1, 2 }) Assert.AreEqual(before[index], after[index], $"entry {index}, pruned from the start, moved");
        Assert.AreNotEqual(before[3], after[3], "a kept entry moves");
        Assert.AreNotEqual(before[5], after[5], "entry 5 moved in the step before it was pruned");
        var afterPruning = after[5];
        GradientStep(managed, module, optimizer, 2);
        Assert.AreEqual(afterPruning, TorchParameters.ToSingleArray(parameter)[5], "entry 5 must stay once pruned");
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void SavedAndLoadedStateContinuesBitForBit(bool groups)
    {
        IGradientTransform Chain() => groups ? TwoGroups(0.05) : Optimizers.AdamW(1e-2, weightDecay: 0.1, clipNorm: 0.05);
        var uninterruptedManaged = Model(out var uninterrupted);
        using var _ = uninterrupted;
        using var uninterruptedOptimizer = new TorchOptimizer(uninterrupted, uninterruptedManaged.Parameters, Chain());
        for (var step = 0; step < Steps; step++) TorchStep(uninterrupted, uninterruptedOptimizer, step);

        var firstManaged = Model(out var first);
        using var __ = first;
        using var firstOptimizer = new TorchOptimizer(first, firstManaged.Parameters, Chain());
        for (var step = 0; step < Steps / 2; step++) TorchStep(first, firstOptimizer, step);
        using var saved = new MemoryStream();
        firstOptimizer.SaveState(new BinaryWriter(saved));
        first.StoreValuesTo(firstManaged.Parameters);

        using var resumed = new TorchGptModel(Small, TorchTestDevice.Cpu);
        resumed.LoadFrom(firstManaged.Parameters);
        using var resumedOptimizer = new TorchOptimizer(resumed, firstManaged.Parameters, Chain());
        saved.Position = 0;
        resumedOptimizer.LoadState(new BinaryReader(saved));
        Assert.AreEqual(Steps / 2, resumedOptimizer.StepCount);
        var matrix = resumed.named_parameters().First(pair => pair.name == "wte.weight").parameter;
        Assert.AreEqual(2, resumedOptimizer.StateBuffersOf(matrix).Count, "moments (AdamW) or momentum and average (FOCUS) of a matrix");
        for (var step = Steps / 2; step < Steps; step++) TorchStep(resumed, resumedOptimizer, step);

        foreach (var ((name, expected), (_, actual)) in uninterrupted.named_parameters().Zip(resumed.named_parameters()))
            CollectionAssert.AreEqual(TorchParameters.ToSingleArray(expected), TorchParameters.ToSingleArray(actual), $"{name} after {Steps} steps with a save and load at {Steps / 2}");

        // The same resumption without the loaded state (fresh moments, step 1 again) must not match: the state matters.
        using var restarted = new TorchGptModel(Small, TorchTestDevice.Cpu);
        restarted.LoadFrom(firstManaged.Parameters);
        using var restartedOptimizer = new TorchOptimizer(restarted, firstManaged.Parameters, Chain());
        for (var step = Steps / 2; step < Steps; step++) TorchStep(restarted, restartedOptimizer, step);
        Assert.IsTrue(
            uninterrupted.named_parameters().Zip(restarted.named_parameters()).Any(pair => !TorchParameters.ToSingleArray(pair.First.parameter).SequenceEqual(TorchParameters.ToSingleArray(pair.Second.parameter))),
            "a restart without the saved state gives other weights");
    }

    /// <summary>The state tensors outlive a dispose scope the optimizer was made in, and SetToZero's zeros the step that made them.</summary>
    [TestMethod]
    public void AnOptimizerMadeInsideADisposeScopeKeepsItsState()
    {
        var managed = Model(out var module);
        using var _ = module;
        TorchOptimizer optimizer;
        using (NewDisposeScope()) optimizer = new TorchOptimizer(module, managed.Parameters, new Chain(Optimizers.AdamW(1e-2), new Freeze(Norms)));
        using var __ = optimizer;
        TorchStep(module, optimizer, 0);
        TorchStep(module, optimizer, 1);
        var matrix = module.named_parameters().First(pair => pair.name == "wte.weight").parameter;
        var moments = optimizer.StateBuffersOf(matrix);
        Assert.AreEqual(2, moments.Count);
        Assert.IsFalse(moments[0].IsInvalid, "the first moment survived the scope");
        Assert.IsGreaterThan(0f, moments[1].sum().item<float>(), "the second moment holds two steps of squared gradients");
    }

    [TestMethod]
    public void StateOfAnotherChainIsRefused()
    {
        var managed = Model(out var module);
        using var _ = module;
        using var adam = new TorchOptimizer(module, managed.Parameters, Optimizers.AdamW(1e-2));
        using var saved = new MemoryStream();
        adam.SaveState(new BinaryWriter(saved));
        using var focus = new TorchOptimizer(module, managed.Parameters, Optimizers.Focus(1e-2));
        saved.Position = 0;
        var error = Assert.ThrowsExactly<InvalidDataException>(() => focus.LoadState(new BinaryReader(saved)));
        TestContext.WriteLine(error.Message);
        StringAssert.Contains(error.Message, "'Chain' has 3 nested states in the checkpoint but 1", "the message says where the chains differ");
        Assert.AreEqual(0, focus.StepCount, "a failed load changes nothing");
    }

    [TestMethod]
    public void AnUnknownTransformIsRefusedByName()
    {
        var managed = Model(out var module);
        using var _ = module;
        var error = Assert.ThrowsExactly<NotSupportedException>(() => new TorchOptimizer(module, managed.Parameters, new Chain(new Doubling(), Optimizers.Sgd(0.1))));
        StringAssert.Contains(error.Message, nameof(Doubling));
        StringAssert.Contains(error.Message, "ManagedBackend");
    }

    [TestMethod]
    public void AMultiTransformThatDoesNotPartitionIsRefusedNamingTheParameter()
    {
        var managed = Model(out var module);
        using var _ = module;
        var matricesOnly = new MultiTransform(new ParameterGroup("matrices", Optimizers.DecayMatrices, Optimizers.Sgd(0.1)));
        var error = Assert.ThrowsExactly<ArgumentException>(() => new TorchOptimizer(module, managed.Parameters, matricesOnly));
        StringAssert.Contains(error.Message, "'blocks.0.ln1.weight' is in none of the groups");
    }

    /// <summary>Each backend computes its own gradients: the whole training step, forward, backward and AdamW, agrees (normwise).</summary>
    [TestMethod]
    public void TwentyTrainingStepsMatchTheManagedEngine()
    {
        var managed = GptModel.Create(Small, seed: 41, Parallelism.Sequential);
        using var module = new TorchGptModel(Small, TorchTestDevice.Cpu);
        module.LoadFrom(managed.Parameters);
        var managedOptimizer = new GradientTransformOptimizer(Optimizers.AdamW(1e-2, weightDecay: 0.1), managed.Parameters);
        using var torchOptimizer = new TorchOptimizer(module, managed.Parameters, Optimizers.AdamW(1e-2, weightDecay: 0.1));

        float managedLoss = 0, torchLoss = 0;
        for (var step = 0; step < Steps; step++)
        {
            var (inputs, targets) = (Batch(step, seed: 3), Batch(step, seed: 4));
            managed.Parameters.ZeroGradients();
            managedLoss = managed.Forward(inputs, targets, BatchSize, TokenCount);
            managed.Backward();
            managedOptimizer.Step(managed.Parameters);
            torchLoss = TorchStep(module, torchOptimizer, inputs, targets);
        }

        TestContext.WriteLine($"last loss: managed {managedLoss:G8}, TorchSharp {torchLoss:G8}");
        Assert.AreEqual(managedLoss, torchLoss, 1e-5 * managedLoss);

        // Element by element the runs drift apart where a gradient is rounding noise: the key bias has an exactly zero
        // gradient (each query's softmax is invariant to a shift shared by all keys), and Adam scales any noise up to
        // steps of about lr. So this test compares each tensor normwise and leaves the key third of qkv.bias out.
        var comparison = new TensorComparison(TestContext, relative: 1e-4, floor: 1e-2);
        var channels = Small.Channels;
        foreach (var (name, parameter) in module.named_parameters())
        {
            var expected = managed.Parameters.ValuesOf(managed.Parameters[name]).ToArray();
            var actual = TorchParameters.ToSingleArray(parameter);
            if (name.EndsWith("qkv.bias", StringComparison.Ordinal))
            {
                comparison.CompareNormwise(name + " (queries)", expected[..channels], actual[..channels]);
                comparison.CompareNormwise(name + " (values)", expected[(2 * channels)..], actual[(2 * channels)..]);
            }
            else
            {
                comparison.CompareNormwise(name, expected, actual);
            }
        }

        comparison.Summarize($"weights after {Steps} training steps on each backend");
    }

    private static Case Focus(FocusWeightDecayPlacement placement, FocusWeightDecayPlacement other) => new(
        $"FOCUS {placement}", _ => FocusChain(placement), _ => FocusChain(other), $"placement {other}");

    private static IGradientTransform FocusChain(FocusWeightDecayPlacement placement) =>
        Optimizers.Focus(new FocusOptions(1e-2) { Beta2 = 0.9, Gamma = 0.2, WeightDecay = 0.2, Placement = placement });

    private static IGradientTransform TwoGroups(double sgdRate) => new MultiTransform(
        new ParameterGroup("matrices", Optimizers.DecayMatrices, FocusChain(FocusWeightDecayPlacement.TowardEmaBeforeStep)),
        new ParameterGroup("vectors", slice => !slice.IsMatrix, Optimizers.Sgd(sgdRate, momentum: 0.9)));

    /// <summary>A mask pruning a third of each linear weight, made for <paramref name="arena"/>.</summary>
    private static PruningMask PrunedMask(ParameterArena arena)
    {
        var mask = new PruningMask(arena);
        foreach (var slice in mask.PrunableSlices) mask.Prune(slice, Enumerable.Range(0, slice.Length).Where(index => index % 3 == 1).ToArray());
        return mask;
    }

    /// <summary>Runs both optimizers 20 steps on the managed engine's gradients and compares the weights, without asserting.</summary>
    private TensorComparison Compare(Func<ParameterArena, IGradientTransform> managedChain, Func<ParameterArena, IGradientTransform> deviceChain, out TorchOptimizer device)
    {
        var managed = Model(out var module);
        using var _ = module;
        var managedOptimizer = new GradientTransformOptimizer(managedChain(managed.Parameters), managed.Parameters);
        device = new TorchOptimizer(module, managed.Parameters, deviceChain(managed.Parameters));
        using var deviceOptimizer = device;
        for (var step = 0; step < Steps; step++)
        {
            managed.Parameters.ZeroGradients();
            managed.Forward(Batch(step, seed: 1), Batch(step, seed: 2), BatchSize, TokenCount);
            managed.Backward();
            SetGradients(module, managed.Parameters);
            managedOptimizer.Step(managed.Parameters);
            deviceOptimizer.Step();
        }

        var comparison = new TensorComparison(TestContext, relative: 1e-4, floor: 1e-2);
        foreach (var (name, parameter) in module.named_parameters())
            comparison.Compare(name, managed.Parameters.ValuesOf(managed.Parameters[name]), TorchParameters.ToSingleArray(parameter));
        TestContext.WriteLine($"worst relative error {comparison.WorstRelativeError:E2}, normwise {comparison.WorstNormwiseError:E2}");
        return comparison;
    }

    /// <summary>A seeded GPT with N(0, 0.1²) weights (every bias and shift non-zero) and its module copy.</summary>
    private static GptModel Model(out TorchGptModel module)
    {
        var managed = GptModel.Create(Small, seed: 31, Parallelism.Sequential);
        ManagedModels.Randomize(managed.Parameters, seed: 37);
        module = new TorchGptModel(Small, TorchTestDevice.Cpu);
        module.LoadFrom(managed.Parameters);
        return managed;
    }

    private static void GradientStep(GptModel managed, TorchGptModel module, TorchOptimizer optimizer, int step)
    {
        module.StoreValuesTo(managed.Parameters);
        managed.Parameters.ZeroGradients();
        managed.Forward(Batch(step, seed: 1), Batch(step, seed: 2), BatchSize, TokenCount);
        managed.Backward();
        SetGradients(module, managed.Parameters);
        optimizer.Step();
    }

    private static void TorchStep(TorchGptModel module, TorchOptimizer optimizer, int step) => TorchStep(module, optimizer, Batch(step, seed: 5), Batch(step, seed: 6));

    private static float TorchStep(TorchGptModel module, TorchOptimizer optimizer, int[] inputs, int[] targets)
    {
        using var scope = NewDisposeScope();
        module.zero_grad();
        var loss = TorchGptModel.Loss(module.forward(TorchTestDevice.Int64Tensor(inputs, BatchSize, TokenCount)), TorchTestDevice.Int64Tensor(targets, BatchSize, TokenCount));
        loss.backward();
        optimizer.Step();
        return loss.item<float>();
    }

    private static int[] Batch(int step, ulong seed) => ManagedModels.Tokens(BatchSize * TokenCount, Small.VocabularySize, seed * 1000 + (ulong)step);

    /// <summary>Gives every parameter the arena's gradient exactly: the gradient of Σ θ·G with respect to θ is G.</summary>
    private static void SetGradients(nn.Module module, ParameterArena arena)
    {
        using var scope = NewDisposeScope();
        module.zero_grad();
        var total = module.named_parameters()
            .Select(pair => (pair.parameter * tensor(arena.GradientsOf(arena[pair.name]).ToArray(), pair.parameter.shape, device: pair.parameter.device)).sum())
            .Aggregate((sum, next) => sum + next);
        total.backward();
    }

    /// <summary>A transform the device optimizer does not know.</summary>
    private sealed class Doubling : IGradientTransform
    {
        public TransformState Init(ParameterArena arena) => new EmptyState(nameof(Doubling));

        public void Update(Span<float> updates, ReadOnlySpan<float> parameters, TransformState state, in UpdateContext context)
        {
            foreach (var slice in context.Parameters)
            {
                foreach (ref var value in updates[slice.Range]) value *= 2;
            }
        }
    }
}
