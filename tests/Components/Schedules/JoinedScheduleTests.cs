using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Schedules;

namespace Pipelines.Components.Tests.Schedules;

[TestClass]
public sealed class JoinedScheduleTests
{
    [TestMethod]
    public void EachLaterScheduleSeesTheStepMinusItsBoundary()
    {
        var joined = Schedule.Join([new ConstantSchedule(1), new LinearWarmupSchedule(2, 10), new ConstantSchedule(3)], [5, 20]);

        Assert.AreEqual(1.0, joined.ValueAt(0));
        Assert.AreEqual(1.0, joined.ValueAt(4));
        Assert.AreEqual(0.2, joined.ValueAt(5), 1e-15, "the warm-up sees step 0 at the boundary");
        Assert.AreEqual(1.2, joined.ValueAt(10), 1e-15, "and step 5 five steps later");
        Assert.AreEqual(2.0, joined.ValueAt(14), "and its last step, 9, at the peak");
        Assert.AreEqual(2.0, joined.ValueAt(19));
        Assert.AreEqual(3.0, joined.ValueAt(20));
        Assert.AreEqual(3.0, joined.ValueAt(long.MaxValue));
    }

    [TestMethod]
    public void JoiningWarmupAndCosineEqualsTheCosineScheduleWithWarmup()
    {
        var joined = Schedule.Join([new LinearWarmupSchedule(1, 10), new CosineSchedule(1, 90)], [10]);
        var reference = new CosineSchedule(1, 100, warmupSteps: 10);

        for (long step = 0; step <= 120; step++)
            Assert.AreEqual(reference.ValueAt(step), joined.ValueAt(step), 1e-15, $"step {step}");
    }

    [TestMethod]
    public void ASingleScheduleNeedsNoBoundary() =>
        Assert.AreEqual(0.5, Schedule.Join([new ConstantSchedule(0.5)], []).ValueAt(7));

    [TestMethod]
    public void BadInputIsRejected()
    {
        var one = new ConstantSchedule(1);
        Assert.AreEqual("schedules", Assert.ThrowsExactly<ArgumentException>(() => Schedule.Join([], [])).ParamName);
        Assert.AreEqual("schedules", Assert.ThrowsExactly<ArgumentException>(() => Schedule.Join([one, null!], [3])).ParamName);
        Assert.AreEqual("boundaries", Assert.ThrowsExactly<ArgumentException>(() => Schedule.Join([one, one], [])).ParamName);
        Assert.AreEqual("boundaries", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Schedule.Join([one, one], [0])).ParamName);
        Assert.AreEqual("boundaries", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Schedule.Join([one, one, one], [5, 5])).ParamName);
        Assert.AreEqual("boundaries", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Schedule.Join([one, one, one], [5, 3])).ParamName);
    }
}
