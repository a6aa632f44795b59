using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Optimization;
using Pipelines.Components.Schedules;
using Pipelines.Components.Tensors;
using Pipelines.Components.Training;

namespace Pipelines.Components.Tests.Training;

[TestClass]
public sealed class ScheduleLayoutHookTests
{
    // Warm-up 10, stable to 30, linear decay over 20 steps.
    private static readonly WarmupStableDecaySchedule Fixed = new(1e-3, new PhaseLayout(warmupSteps: 10, decayStart: 30, decaySteps: 20));
    private static readonly WarmupStableDecaySchedule Open = WarmupStableDecaySchedule.OpenEnded(1e-3, warmupSteps: 10, decaySteps: 20);
    private static readonly WsdsPlan Wsds = new(1e-3, [40, 80], decayFraction: 0.25);

    /// <summary>The hook's state after <paramref name="stepsDone"/> updates, as a checkpoint would hold it.</summary>
    private static byte[] StateAfter(ScheduleLayoutHook hook, long stepsDone)
    {
        if (stepsDone > 0) hook.AfterUpdate(stepsDone - 1, TinyArena(), new GradientTransformOptimizer(Optimizers.Sgd(hook.Plan.ValueAt(0)), TinyArena()));
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) hook.SaveState(writer);
        return stream.ToArray();
    }

    private static void Load(ScheduleLayoutHook hook, byte[] state)
    {
        using var reader = new BinaryReader(new MemoryStream(state));
        hook.LoadState(reader);
    }

    private static ParameterArena TinyArena()
    {
        var builder = new ParameterArenaBuilder();
        builder.Add("w", ParameterRole.LinearWeight, 2, 2);
        return builder.Build();
    }

    [TestMethod]
    public void TheSamePlanResumesAndRestoresTheStep()
    {
        var state = StateAfter(new ScheduleLayoutHook(Fixed), stepsDone: 12);
        var resumed = new ScheduleLayoutHook(new WarmupStableDecaySchedule(1e-3, new PhaseLayout(10, 30, 20)));
        Load(resumed, state);
        Assert.AreEqual(12, resumed.StepsDone);
        StringAssert.Contains(resumed.PlanJson, "\"decayStart\":30");
    }

    [TestMethod]
    public void AChangedLayoutIsRefusedNamingTheChange()
    {
        var state = StateAfter(new ScheduleLayoutHook(Fixed), stepsDone: 12);
        var error = Assert.ThrowsExactly<InvalidDataException>(() => Load(new ScheduleLayoutHook(Fixed.ExtendStable(20)), state));
        StringAssert.Contains(error.Message, "decay start changed from 30 to 50");
        StringAssert.Contains(error.Message, "decay end changed from 50 to 70");
        StringAssert.Contains(error.Message, "acceptedChangeFrom");
        StringAssert.Contains(error.Message, "the estimator option AcceptedScheduleChangeFrom", "estimator users can only set this option");

        var shorter = new WarmupStableDecaySchedule(1e-3, new PhaseLayout(10, 30, 10, DecayShape.Cosine));
        error = Assert.ThrowsExactly<InvalidDataException>(() => Load(new ScheduleLayoutHook(shorter), state));
        StringAssert.Contains(error.Message, "decay steps changed from 20 to 10");
        StringAssert.Contains(error.Message, "decay shape changed from Linear to Cosine");
    }

    [TestMethod]
    public void AChangedPeakIsRefusedEvenWhenAChangeIsAccepted()
    {
        var state = StateAfter(new ScheduleLayoutHook(Fixed), stepsDone: 12);
        var error = Assert.ThrowsExactly<InvalidDataException>(() => Load(new ScheduleLayoutHook(new WarmupStableDecaySchedule(2e-3, Fixed.Layout)), state));
        StringAssert.Contains(error.Message, "peak learning rate changed from 0.001 to 0.002");

        // Accepted on purpose, but the new peak rewrites trained steps (step 0, the warm-up's first).
        var higher = new WarmupStableDecaySchedule(2e-3, Fixed.Layout);
        error = Assert.ThrowsExactly<InvalidDataException>(() => Load(new ScheduleLayoutHook(higher, acceptedChangeFrom: Fixed), state));
        StringAssert.Contains(error.Message, "alters step 0");
    }

    [TestMethod]
    public void ExtendStableIsAcceptedOnPurpose()
    {
        var state = StateAfter(new ScheduleLayoutHook(Fixed), stepsDone: 25);
        var extended = new ScheduleLayoutHook(Fixed.ExtendStable(100), acceptedChangeFrom: Fixed);
        Load(extended, state);
        Assert.AreEqual(25, extended.StepsDone);

        // Its next checkpoint stores the new plan, so later resumes need no acceptance.
        var next = StateAfter(extended, stepsDone: 26);
        Load(new ScheduleLayoutHook(Fixed.ExtendStable(100)), next);
        Assert.ThrowsExactly<InvalidDataException>(() => Load(new ScheduleLayoutHook(Fixed), next));
    }

    [TestMethod]
    public void AnAcceptedChangeMayNotRewriteStepsAlreadyTrained()
    {
        // 35 steps done: the decay began at step 30 (its first step below the peak), so moving it now would change steps 30..34.
        var state = StateAfter(new ScheduleLayoutHook(Fixed), stepsDone: 35);
        var error = Assert.ThrowsExactly<InvalidDataException>(() => Load(new ScheduleLayoutHook(Fixed.ExtendStable(20), acceptedChangeFrom: Fixed), state));
        StringAssert.Contains(error.Message, "alters step 30");
        StringAssert.Contains(error.Message, "35 steps done");

        // Exactly at the boundary (30 done) the change only affects future steps.
        Load(new ScheduleLayoutHook(Fixed.ExtendStable(20), acceptedChangeFrom: Fixed), StateAfter(new ScheduleLayoutHook(Fixed), stepsDone: 30));
    }

    [TestMethod]
    public void StartDecayAtFixesAnOpenEndedRunOnlyInTheFuture()
    {
        var state = StateAfter(new ScheduleLayoutHook(Open), stepsDone: 50);
        Load(new ScheduleLayoutHook(Open.StartDecayAt(50), acceptedChangeFrom: Open), state);

        var error = Assert.ThrowsExactly<InvalidDataException>(() => Load(new ScheduleLayoutHook(Open.StartDecayAt(40), acceptedChangeFrom: Open), state));
        StringAssert.Contains(error.Message, "decay start changed from undecided (open-ended stable phase) to 40");
        StringAssert.Contains(error.Message, "alters step 40");

        error = Assert.ThrowsExactly<InvalidDataException>(() => Load(new ScheduleLayoutHook(Open.StartDecayAt(60)), state));
        StringAssert.Contains(error.Message, "decay start changed from undecided (open-ended stable phase) to 60");
    }

    [TestMethod]
    public void AcceptingAChangeFromAnotherPlanIsRefused()
    {
        var state = StateAfter(new ScheduleLayoutHook(Open), stepsDone: 20);
        var error = Assert.ThrowsExactly<InvalidDataException>(() => Load(new ScheduleLayoutHook(Fixed.ExtendStable(50), acceptedChangeFrom: Fixed), state));
        StringAssert.Contains(error.Message, "decay start changed from undecided (open-ended stable phase) to 80");
        StringAssert.Contains(error.Message, "accepts a change from another plan");
    }

    [TestMethod]
    public void WsdsPlansAcceptAnAddedBudgetAndRefuseOtherChanges()
    {
        var state = StateAfter(new ScheduleLayoutHook(Wsds), stepsDone: 60);
        var longer = Wsds.AddBudget(160);
        Load(new ScheduleLayoutHook(longer, acceptedChangeFrom: Wsds), state);

        var error = Assert.ThrowsExactly<InvalidDataException>(() => Load(new ScheduleLayoutHook(longer), state));
        StringAssert.Contains(error.Message, "budgets changed from [40, 80] to [40, 80, 160]");

        var otherFraction = new WsdsPlan(1e-3, [40, 80], decayFraction: 0.5);
        error = Assert.ThrowsExactly<InvalidDataException>(() => Load(new ScheduleLayoutHook(otherFraction, acceptedChangeFrom: Wsds), state));
        StringAssert.Contains(error.Message, "decay fraction changed from 0.25 to 0.5");
        StringAssert.Contains(error.Message, "alters step 20");
    }

    [TestMethod]
    public void SwitchingPlanKindsIsRefused()
    {
        var state = StateAfter(new ScheduleLayoutHook(Fixed), stepsDone: 5);
        var error = Assert.ThrowsExactly<InvalidDataException>(() => Load(new ScheduleLayoutHook(Wsds), state));
        StringAssert.Contains(error.Message, "warmup-stable-decay (WSD) plan; this run has a WSD-S plan");
    }

    [TestMethod]
    public void AnotherHooksStateIsRefused()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) writer.Write("Something.Else");
        Assert.ThrowsExactly<InvalidDataException>(() => Load(new ScheduleLayoutHook(Fixed), stream.ToArray()));
    }

    [TestMethod]
    public void AnOptimizerUnderAnotherPlanIsRefusedAtTheFirstUpdate()
    {
        var arena = TinyArena();
        var optimizer = new GradientTransformOptimizer(Optimizers.AdamW(Fixed.ExtendStable(5)), arena);
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => new ScheduleLayoutHook(Fixed).AfterUpdate(0, arena, optimizer));
        StringAssert.Contains(error.Message, "decay start changed from 30 to 35");

        var matching = new GradientTransformOptimizer(Optimizers.AdamW(Fixed), arena);
        var hook = new ScheduleLayoutHook(Fixed);
        hook.AfterUpdate(0, arena, matching);
        Assert.AreEqual(1, hook.StepsDone);
    }
}
