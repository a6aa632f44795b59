using System.Globalization;
using System.Text.Json;
using Pipelines.Components.Optimization;
using Pipelines.Components.Schedules;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Training;

/// <summary>
/// Keeps a run's learning-rate plan (a <see cref="WarmupStableDecaySchedule"/>: its <see cref="PhaseLayout"/> and
/// peak, or a <see cref="WsdsPlan"/>) in the training checkpoint, and refuses to resume under a different plan.
/// </summary>
/// <remarks>
/// A resumed run that silently changes where its decay starts trains a schedule nobody asked for (a pitfall
/// named in <c>TECHNIQUES.md</c>; arXiv 2404.06395, 2410.05192). So the plan's JSON and the number of updates done
/// are saved with the run, and <see cref="LoadState"/> throws <see cref="InvalidDataException"/> whose message lists
/// every difference (<see cref="PhaseLayout.DescribeDifferences"/>, <see cref="WsdsPlan.DescribeDifferences"/>).
/// <para>
/// <b>Changing the plan on purpose.</b> Derive the new plan from the stored one
/// (<see cref="WarmupStableDecaySchedule.ExtendStable"/>, <see cref="WarmupStableDecaySchedule.StartDecayAt"/>,
/// <see cref="WarmupStableDecaySchedule.BranchDecay"/>, <see cref="WsdsPlan.AddBudget"/>) and create the hook with
/// the stored plan as <c>acceptedChangeFrom</c>. A checkpoint holding exactly that plan is then accepted, provided
/// the change leaves every step already trained at the same rate (checked rate by rate over the
/// <see cref="StepsDone"/> steps of the checkpoint): moving a decay that has already begun, or starting one in
/// the past, is still refused. The next checkpoint stores the new plan, so later resumes need no acceptance.
/// </para>
/// <para>
/// On its first update the hook also checks that the optimizer's schedule (the first
/// <see cref="ILearningRateState"/> of a <see cref="GradientTransformOptimizer"/>), when it is a plan of the same
/// kind, equals the plan the hook stores; a mismatch throws <see cref="InvalidOperationException"/>.
/// </para>
/// <example><code>
/// var stable = WarmupStableDecaySchedule.OpenEnded(peakLearningRate: 1e-3, warmupSteps: 100, decaySteps: 200);
/// var hooks = new ITrainingHook[] { new ScheduleLayoutHook(stable) };         // refuses any change
/// var final = stable.StartDecayAt(5_000);
/// var resumed = new ScheduleLayoutHook(final, acceptedChangeFrom: stable);    // accepts this one change
/// </code></example>
/// </remarks>
public sealed class ScheduleLayoutHook : ITrainingHook
{
    private const string Magic = "Pipelines.ScheduleLayoutHook";
    private const int FormatVersion = 1;
    private const string WsdKind = "warmup-stable-decay";
    private const string WsdsKind = "wsd-s";

    private readonly string kind;
    private readonly ISchedule? acceptedChangeFrom;
    private bool optimizerChecked;

    /// <summary>A hook for a WSD run: stores <paramref name="schedule"/> and refuses any other on resume, except a change from <paramref name="acceptedChangeFrom"/>.</summary>
    /// <param name="schedule">The run's schedule (the optimizer must use the same one).</param>
    /// <param name="acceptedChangeFrom">The plan the stored checkpoint was trained under, when <paramref name="schedule"/> was derived from it on purpose; null: no change accepted.</param>
    public ScheduleLayoutHook(WarmupStableDecaySchedule schedule, WarmupStableDecaySchedule? acceptedChangeFrom = null)
        : this(OptionGuard.NotNull(schedule, nameof(schedule)), WsdKind, acceptedChangeFrom)
    {
    }

    /// <summary>A hook for a WSD-S run: stores <paramref name="plan"/> and refuses any other on resume, except a change from <paramref name="acceptedChangeFrom"/>.</summary>
    /// <param name="plan">The run's plan (the optimizer must use the same one).</param>
    /// <param name="acceptedChangeFrom">The plan the stored checkpoint was trained under, when <paramref name="plan"/> was derived from it on purpose (e.g. <see cref="WsdsPlan.AddBudget"/>); null: no change accepted.</param>
    public ScheduleLayoutHook(WsdsPlan plan, WsdsPlan? acceptedChangeFrom = null)
        : this(OptionGuard.NotNull(plan, nameof(plan)), WsdsKind, acceptedChangeFrom)
    {
    }

    private ScheduleLayoutHook(ISchedule plan, string kind, ISchedule? acceptedChangeFrom)
    {
        Plan = plan;
        this.kind = kind;
        this.acceptedChangeFrom = Equals(acceptedChangeFrom, plan) ? null : acceptedChangeFrom;
        PlanJson = ToJson(plan);
    }

    /// <summary>The plan this run trains under (a <see cref="WarmupStableDecaySchedule"/> or a <see cref="WsdsPlan"/>).</summary>
    public ISchedule Plan { get; }

    /// <summary>The plan as stored in checkpoints (JSON, camelCase, enums by name).</summary>
    public string PlanJson { get; }

    /// <summary>Updates done so far: restored by <see cref="LoadState"/>, advanced by <see cref="AfterUpdate(long, ParameterArena, IOptimizer)"/>.</summary>
    public long StepsDone { get; private set; }

    /// <inheritdoc />
    public void AfterBackward(long step, ParameterArena arena)
    {
    }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">The optimizer trains under a different plan of the same kind.</exception>
    public void AfterUpdate(long step, ParameterArena arena, IOptimizer optimizer) =>
        AfterUpdate(step, () => (optimizer as GradientTransformOptimizer)?.State.Find<ILearningRateState>()?.LearningRate);

    /// <summary>
    /// <see cref="AfterUpdate(long, ParameterArena, IOptimizer)"/> for an optimizer that lives elsewhere (a device):
    /// <paramref name="optimizerSchedule"/> gives its schedule, asked once, on the first update.
    /// </summary>
    /// <exception cref="InvalidOperationException">The optimizer trains under a different plan of the same kind.</exception>
    internal void AfterUpdate(long step, Func<ISchedule?> optimizerSchedule)
    {
        if (!optimizerChecked)
        {
            CheckOptimizerSchedule(optimizerSchedule());
            optimizerChecked = true;
        }

        StepsDone = step + 1;
    }

    /// <inheritdoc />
    /// <remarks>Format: a header, the plan's kind and JSON, then <see cref="StepsDone"/>.</remarks>
    public void SaveState(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(Magic);
        writer.Write(FormatVersion);
        writer.Write(kind);
        writer.Write(PlanJson);
        writer.Write(StepsDone);
    }

    /// <inheritdoc />
    /// <exception cref="InvalidDataException">
    /// The stored plan differs from this run's and is not the accepted change (the message lists every difference),
    /// or the accepted change alters a step already trained, or the state is not this hook's.
    /// </exception>
    public void LoadState(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        if (reader.ReadString() != Magic) throw new InvalidDataException("The checkpoint holds another hook's state where the schedule layout hook's was expected.");
        var version = reader.ReadInt32();
        if (version != FormatVersion) throw new InvalidDataException($"Schedule layout state format {version} is not the supported format {FormatVersion}.");
        var storedKind = reader.ReadString();
        var storedJson = reader.ReadString();
        var stepsDone = reader.ReadInt64();
        if (stepsDone < 0) throw new InvalidDataException($"The stored step count {stepsDone} is negative.");
        if (storedKind != kind)
            throw new InvalidDataException($"The checkpoint was trained under a {Describe(storedKind)} plan; this run has a {Describe(kind)} plan. A run cannot switch plan kinds.");

        var stored = Read(storedJson);
        if (!Equals(stored, Plan)) CheckChange(stored, stepsDone);
        StepsDone = stepsDone;
    }

    private void CheckChange(ISchedule stored, long stepsDone)
    {
        var differences = string.Join("; ", Differences(stored, Plan));
        if (acceptedChangeFrom is null || !Equals(stored, acceptedChangeFrom))
        {
            var hint = acceptedChangeFrom is null
                ? "To change the plan on purpose, derive it from the stored one (ExtendStable, StartDecayAt, BranchDecay, AddBudget) and declare the stored plan as the one changed from: "
                    + "the estimator option AcceptedScheduleChangeFrom, or acceptedChangeFrom of WsdRuns and of this hook."
                : $"The hook accepts a change from another plan ({string.Join("; ", Differences(acceptedChangeFrom, stored))} to get the stored one).";
            throw new InvalidDataException($"The checkpoint's learning-rate plan differs from this run's: {differences}. {hint}");
        }

        for (long step = 0; step < stepsDone; step++)
        {
            var before = stored.ValueAt(step);
            var after = Plan.ValueAt(step);
            if (before != after)
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"The accepted change of the learning-rate plan ({differences}) alters step {step} (rate {before:R} becomes {after:R}), which the checkpoint has already trained ({stepsDone} steps done); a change may only affect steps from {stepsDone} on."));
        }
    }

    private void CheckOptimizerSchedule(ISchedule? schedule)
    {
        if (schedule is null || schedule.GetType() != Plan.GetType() || Equals(schedule, Plan)) return;
        throw new InvalidOperationException(
            $"The optimizer trains under a different plan from the one this hook stores: {string.Join("; ", Differences(Plan, schedule))}. Give both the same plan.");
    }

    private static IReadOnlyList<string> Differences(ISchedule from, ISchedule to) => (from, to) switch
    {
        (WarmupStableDecaySchedule before, WarmupStableDecaySchedule after) => before.DescribeDifferences(after),
        (WsdsPlan before, WsdsPlan after) => before.DescribeDifferences(after),
        _ => ["the plan's kind changed"],
    };

    private static string ToJson(ISchedule plan) => plan switch
    {
        WarmupStableDecaySchedule schedule => schedule.ToJson(),
        WsdsPlan wsds => wsds.ToJson(),
        _ => throw new ArgumentException($"Unsupported plan type {plan.GetType().Name}.", nameof(plan)),
    };

    private ISchedule Read(string json)
    {
        try
        {
            return kind == WsdKind ? WarmupStableDecaySchedule.FromJson(json) : WsdsPlan.FromJson(json);
        }
        catch (Exception error) when (error is JsonException or ArgumentException or InvalidDataException)
        {
            throw new InvalidDataException($"The checkpoint's learning-rate plan cannot be read: {error.Message}", error);
        }
    }

    private static string Describe(string storedKind) => storedKind switch
    {
        WsdKind => "warmup-stable-decay (WSD)",
        WsdsKind => "WSD-S",
        _ => $"'{storedKind}'",
    };
}
