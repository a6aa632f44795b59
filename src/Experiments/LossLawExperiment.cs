using Pipelines.Components.Compute;
using Pipelines.Components.Schedules;

namespace Pipelines.Experiments;

/// <summary>Options of <see cref="LossLawExperiment"/>: the setup, the optimizer and peak, the three schedules and the fit.</summary>
/// <remarks>
/// The three runs share the warm-up and the peak: a constant rate (WSD whose decay never starts), a cosine to
/// <see cref="CosineMinRatio"/> of the peak at the last step, and a WSD whose decay over <see cref="WsdDecay"/>
/// reaches 0 at the last step. Each option is checked when set.
/// </remarks>
public sealed record LossLawExperimentOptions
{
    /// <summary>Creates options with the defaults below.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="peakLearningRate"/> is not finite and positive.</exception>
    public LossLawExperimentOptions(PretrainingSetup setup, double peakLearningRate)
    {
        Setup = setup ?? throw new ArgumentNullException(nameof(setup));
        PeakLearningRate = double.IsFinite(peakLearningRate) && peakLearningRate > 0
            ? peakLearningRate
            : throw new ArgumentOutOfRangeException(nameof(peakLearningRate), peakLearningRate, "Must be finite and positive.");
        WarmupSteps = Math.Max(1, setup.Training.Steps / 20);
        FirstFittedStep = Math.Max(WarmupSteps, setup.Training.Steps / 10);
    }

    /// <summary>Model, seeds, batch shape, run length and evaluation interval (the fit uses the periodic validation losses).</summary>
    public PretrainingSetup Setup { get; }

    /// <summary>The peak rate shared by the three runs.</summary>
    public double PeakLearningRate { get; }

    /// <summary>The optimizer (default AdamW with <see cref="OptimizerCandidate.AdamW"/>'s settings).</summary>
    public PretrainingOptimizer Optimizer { get; init => field = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(Optimizer), value, "Unknown optimizer."); } = PretrainingOptimizer.AdamW;

    /// <summary>Linear warm-up steps of every run (default 5% of the run, at least 1); counted at the peak in the law's areas.</summary>
    public long WarmupSteps { get; init => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(WarmupSteps), value, "Must not be negative."); }

    /// <summary>The cosine's floor as a fraction of the peak (default 0).</summary>
    public double CosineMinRatio { get; init => field = value is >= 0 and <= 1 ? value : throw new ArgumentOutOfRangeException(nameof(CosineMinRatio), value, "Must lie in [0, 1]."); }

    /// <summary>The WSD run's decay length (default 20% of the run).</summary>
    public DecayLength WsdDecay { get; init => field = value ?? throw new ArgumentNullException(nameof(WsdDecay)); } = DecayLength.OfFraction(0.2);

    /// <summary>The WSD run's decay shape (default linear).</summary>
    public DecayShape WsdDecayShape { get; init => field = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(WsdDecayShape), value, "Unknown decay shape."); } = DecayShape.Linear;

    /// <summary>The annealing momentum's decay lambda in [0, 1) (default 0.999, the paper's).</summary>
    public double MomentumDecay { get; init => field = value is >= 0 and < 1 ? value : throw new ArgumentOutOfRangeException(nameof(MomentumDecay), value, "Must lie in [0, 1)."); } = 0.999;

    /// <summary>Validation points before this many steps are neither fitted nor scored (default the larger of the warm-up and 10% of the run).</summary>
    public long FirstFittedStep { get; init => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(FirstFittedStep), value, "At least 1."); }

    /// <summary>Huber threshold, box and starts of the fit (default the paper's, <see cref="LossLawFitOptions.Default"/>).</summary>
    public LossLawFitOptions Fit { get; init => field = value ?? throw new ArgumentNullException(nameof(Fit)); } = LossLawFitOptions.Default;

    /// <summary>The constant-rate schedule: the warm-up, then the peak for ever.</summary>
    public WarmupStableDecaySchedule ConstantSchedule => WarmupStableDecaySchedule.OpenEnded(PeakLearningRate, WarmupSteps, decaySteps: 1);

    /// <summary>The cosine schedule, reaching its floor at the last step.</summary>
    public CosineSchedule CosineSchedule => new(PeakLearningRate, Setup.Training.Steps, WarmupSteps, CosineMinRatio);

    /// <summary>The WSD schedule whose prediction is scored.</summary>
    public WarmupStableDecaySchedule WsdSchedule => new(PeakLearningRate, Setup.Training.Steps, WsdDecay, WarmupSteps, WsdDecayShape);

    /// <summary>How the law's areas are taken: warm-up counted at the peak, lambda = <see cref="MomentumDecay"/>.</summary>
    public AnnealingAreaOptions Areas => new(WarmupSteps, MomentumDecay, countWarmupAtPeak: true, PeakLearningRate);
}

/// <summary>
/// The annealing loss law on real runs: fit it to a constant-rate and a cosine run of a small GPT, predict the loss
/// curve of a WSD run, and score the prediction by its mean absolute relative error.
/// </summary>
/// <remarks>
/// arXiv 2408.11029 (Tissue et al.): <c>L(s) = L0 + A S1^(-alpha) - C S2</c>, see <see cref="AnnealingLossLaw"/>. The
/// observations are the periodic validation losses from <see cref="LossLawExperimentOptions.FirstFittedStep"/> on;
/// the loss measured after <c>s</c> updates (steps <c>0..s-1</c>) is matched with the areas at step <c>s - 1</c>, the
/// rates actually applied. MARE = mean over the WSD points of <c>|L_pred - L_obs| / L_obs</c> (the paper reports
/// errors around 0.2-0.5% on large runs; small noisy runs do worse). Example: <c>samples/LossLaw</c>.
/// </remarks>
public static class LossLawExperiment
{
    /// <summary>The names of the three runs in results and reports.</summary>
    public const string ConstantName = "constant", CosineName = "cosine", WsdName = "WSD";

    /// <summary>Trains the three runs, fits the law on two and predicts the third.</summary>
    /// <param name="options">Setup, optimizer, schedules and fit.</param>
    /// <param name="trainingTokens">The training stream.</param>
    /// <param name="validationTokens">The validation stream.</param>
    /// <param name="runParallelism">How many runs train at once (default one); results do not depend on it.</param>
    /// <param name="progress">Told after each run.</param>
    /// <param name="cancellationToken">Stops the runs.</param>
    /// <exception cref="InvalidOperationException">A run diverged, or a run has no validation point from the first fitted step on.</exception>
    public static LossLawExperimentResult Run(LossLawExperimentOptions options, int[] trainingTokens, int[] validationTokens,
        Parallelism? runParallelism = null, IProgress<PretrainingRunResult>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var schedules = new (string Name, ISchedule Schedule)[]
        {
            (ConstantName, options.ConstantSchedule), (CosineName, options.CosineSchedule), (WsdName, options.WsdSchedule),
        };
        var optimizer = OptimizerCandidate.For(options.Optimizer, [options.PeakLearningRate]);
        var runs = PretrainingRun.RunAll(schedules.Length, index => PretrainingRun.Run(schedules[index].Name, options.PeakLearningRate, options.Setup,
            optimizer.Create(schedules[index].Schedule), trainingTokens, validationTokens, Parallelism.Sequential, cancellationToken),
            runParallelism ?? Parallelism.Sequential, progress, cancellationToken);
        return Analyse(options, runs[0], runs[1], runs[2]);
    }

    /// <summary>Fits the law on the constant and cosine runs and scores its prediction of the WSD run (no training).</summary>
    /// <exception cref="InvalidOperationException">A run diverged, or has no validation point from the first fitted step on.</exception>
    public static LossLawExperimentResult Analyse(LossLawExperimentOptions options, PretrainingRunResult constant, PretrainingRunResult cosine, PretrainingRunResult wsd)
    {
        ArgumentNullException.ThrowIfNull(options);
        var fitted = new[] { Curve(options, constant, options.ConstantSchedule), Curve(options, cosine, options.CosineSchedule) };
        var fit = AnnealingLossLaw.Fit(fitted, options.Fit);
        var wsdCurve = Curve(options, wsd, options.WsdSchedule);

        var points = new List<LossLawPoint>();
        foreach (var (run, curve, isFitted) in new[] { (constant, fitted[0], true), (cosine, fitted[1], true), (wsd, wsdCurve, false) })
        {
            var predicted = AnnealingLossLaw.Predict(fit.Parameters, curve.Schedule, curve.Steps, options.Areas);
            for (var index = 0; index < curve.Steps.Count; index++)
            {
                var lawStep = curve.Steps[index];
                points.Add(new LossLawPoint(run.Name, lawStep + 1, curve.Schedule.ValueAt(lawStep), curve.Losses[index], predicted[index], isFitted));
            }
        }

        return new LossLawExperimentResult(options, constant, cosine, wsd, fit, points);
    }

    /// <summary>
    /// Fits and scores the same three runs under each annealing-momentum decay lambda of <paramref name="momentumDecays"/>
    /// (no training). The paper's 0.999 suits runs of tens of thousands of steps; shorter runs may want a shorter memory.
    /// Choose by <see cref="LossLawExperimentResult.InSampleMeanAbsoluteRelativeError"/>, not by the WSD error, to keep
    /// the prediction honest.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A lambda outside [0, 1).</exception>
    /// <exception cref="InvalidOperationException">A run diverged, or has no validation point from the first fitted step on.</exception>
    public static IReadOnlyList<LossLawExperimentResult> AnalyseMomentumDecays(LossLawExperimentOptions options, IReadOnlyList<double> momentumDecays,
        PretrainingRunResult constant, PretrainingRunResult cosine, PretrainingRunResult wsd)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(momentumDecays);
        return momentumDecays.Select(lambda => Analyse(options with { MomentumDecay = lambda }, constant, cosine, wsd)).ToArray();
    }

    private static LossCurve Curve(LossLawExperimentOptions options, PretrainingRunResult run, ISchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (run.Diverged) throw new InvalidOperationException($"The {run.Name} run diverged at step {run.DivergedAtStep}; lower the peak learning rate.");
        var (steps, losses) = PretrainingRun.ValidationCurve(run.History);
        var kept = Enumerable.Range(0, steps.Length).Where(index => steps[index] >= options.FirstFittedStep).ToArray();
        if (kept.Length == 0)
            throw new InvalidOperationException($"The {run.Name} run has no validation loss from step {options.FirstFittedStep} on; evaluate more often (EvaluationInterval).");
        return new LossCurve(schedule, kept.Select(index => steps[index] - 1).ToArray(), kept.Select(index => losses[index]).ToArray(), options.Areas);
    }
}

/// <summary>One validation point of a <see cref="LossLawExperiment"/> run with the law's value there.</summary>
/// <param name="Schedule">The run: <c>constant</c>, <c>cosine</c> or <c>WSD</c>.</param>
/// <param name="Step">Updates done when the loss was measured.</param>
/// <param name="LearningRate">The rate of the last update.</param>
/// <param name="Measured">The validation loss.</param>
/// <param name="Predicted">The fitted law's loss.</param>
/// <param name="Fitted">Whether the point was used in the fit (constant and cosine) or only predicted (WSD).</param>
public sealed record LossLawPoint(string Schedule, long Step, double LearningRate, double Measured, double Predicted, bool Fitted)
{
    /// <summary><c>|Predicted - Measured| / Measured</c>.</summary>
    public double RelativeError => Math.Abs(Predicted - Measured) / Measured;
}

/// <summary>The runs, the fit and the prediction of a <see cref="LossLawExperiment"/>.</summary>
public sealed class LossLawExperimentResult
{
    internal LossLawExperimentResult(LossLawExperimentOptions options, PretrainingRunResult constant, PretrainingRunResult cosine, PretrainingRunResult wsd,
        LossLawFit fit, IReadOnlyList<LossLawPoint> points)
    {
        Options = options;
        Constant = constant;
        Cosine = cosine;
        Wsd = wsd;
        Fit = fit;
        Points = points;
        var predicted = points.Where(point => !point.Fitted).ToArray();
        WsdMeanAbsoluteRelativeError = predicted.Average(point => point.RelativeError);
        WsdMaximumAbsoluteRelativeError = predicted.Max(point => point.RelativeError);
        WsdFinalRelativeError = predicted[^1].RelativeError;
        InSampleMeanAbsoluteRelativeError = fit.MeanAbsoluteRelativeErrors.Average();
    }

    /// <summary>The options.</summary>
    public LossLawExperimentOptions Options { get; }

    /// <summary>The constant-rate run (fitted).</summary>
    public PretrainingRunResult Constant { get; }

    /// <summary>The cosine run (fitted).</summary>
    public PretrainingRunResult Cosine { get; }

    /// <summary>The WSD run (predicted).</summary>
    public PretrainingRunResult Wsd { get; }

    /// <summary>The law fitted on the constant and cosine runs, with its in-sample errors per run.</summary>
    public LossLawFit Fit { get; }

    /// <summary>Every scored validation point of the three runs, with the law's value.</summary>
    public IReadOnlyList<LossLawPoint> Points { get; }

    /// <summary>The mean absolute relative error of the predicted WSD curve against the measured one.</summary>
    public double WsdMeanAbsoluteRelativeError { get; }

    /// <summary>The largest relative error over the WSD points.</summary>
    public double WsdMaximumAbsoluteRelativeError { get; }

    /// <summary>The relative error at the WSD run's last validation point (the final loss).</summary>
    public double WsdFinalRelativeError { get; }

    /// <summary>The mean of the fitted runs' in-sample errors: a way to choose lambda without looking at the WSD run.</summary>
    public double InSampleMeanAbsoluteRelativeError { get; }
}
