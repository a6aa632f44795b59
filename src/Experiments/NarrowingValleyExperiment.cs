using Pipelines.Components.Compute;
using Pipelines.Components.Optimization;
using Pipelines.Components.Tensors;

namespace Pipelines.Experiments;

/// <summary>The FOCUS paper's phase diagram on the <see cref="NarrowingValley"/>: which optimizer reaches the lowest loss.</summary>
/// <remarks>
/// arXiv 2501.12243, Fig. 2. For each (noise sigma, sharpness a) cell, each optimizer and each learning rate runs
/// <c>Replicates</c> independent points from N(0, InitialScale^2) for <c>Steps</c> noisy-gradient steps with this
/// library's own transforms; its score is the mean final loss over replicates at its best learning rate.
/// <para>
/// The loss is unbounded below, and a run can also blow up: a replicate whose final loss is NaN or infinite counts
/// as +infinity, so a learning rate with any diverged replicate scores +infinity and is never the best unless
/// all are.
/// </para>
/// <para>
/// The replicates of a run are the rows of one [replicates, 2] parameter; every transform used is elementwise, so
/// rows never interact. Common random numbers: each cell draws one seed from the given RNG, and every
/// (optimizer, learning rate) run of that cell starts from the same points and noise stream, which makes
/// comparisons within a cell less noisy. Results depend only on the seed (not on <see cref="Parallelism"/>).
/// </para>
/// </remarks>
public static class NarrowingValleyExperiment
{
    /// <summary>Runs the grid: sharpness-major, then noise level, in the options' orders.</summary>
    /// <param name="options">The grid and the optimizers' settings.</param>
    /// <param name="random">The seeded source of every random draw.</param>
    /// <param name="progress">Told after each cell.</param>
    /// <param name="parallelism">Threads for the runs within a cell (default one).</param>
    /// <param name="cancellationToken">Checked before each run.</param>
    public static IReadOnlyList<NarrowingValleyCell> Run(NarrowingValleyOptions options, Random random,
        IProgress<NarrowingValleyProgress>? progress = null, Parallelism? parallelism = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(random);
        var threads = parallelism ?? Parallelism.Sequential;
        var cells = new List<NarrowingValleyCell>();
        var total = options.Sharpnesses.Count * options.NoiseLevels.Count;
        foreach (var sharpness in options.Sharpnesses)
        {
            foreach (var noise in options.NoiseLevels)
            {
                var cell = RunCell(options, new NarrowingValley(sharpness, options.Pull, options.Rotation), noise, random.Next(), threads, cancellationToken);
                cells.Add(cell);
                progress?.Report(new NarrowingValleyProgress(cells.Count, total, cell));
            }
        }

        return cells;
    }

    /// <summary>Mean final loss of one (optimizer, learning rate) run; diverged replicates count as +infinity.</summary>
    /// <param name="options">Steps, replicates, initial scale and the optimizers' settings.</param>
    /// <param name="valley">The landscape.</param>
    /// <param name="optimizer">Which optimizer.</param>
    /// <param name="learningRate">The (constant) learning rate.</param>
    /// <param name="noise">sigma.</param>
    /// <param name="random">Draws the initial points, then the noise, in that order.</param>
    /// <param name="cancellationToken">Checked every 100 steps.</param>
    public static double MeanFinalLoss(NarrowingValleyOptions options, NarrowingValley valley, ValleyOptimizer optimizer, double learningRate, double noise,
        Random random, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(valley);
        ArgumentNullException.ThrowIfNull(random);
        var builder = new ParameterArenaBuilder();
        var points = builder.Add("points", ParameterRole.LinearWeight, options.Replicates, 2);
        var arena = builder.Build();
        var values = arena.ValuesOf(points);
        for (var index = 0; index < values.Length; index++)
            values[index] = (float)(options.InitialScale * NarrowingValley.StandardNormal(random));

        var stepper = new GradientTransformOptimizer(Transform(options, optimizer, learningRate), arena);
        for (var step = 0; step < options.Steps; step++)
        {
            if (step % 100 == 0) cancellationToken.ThrowIfCancellationRequested();
            valley.NoisyGradients(arena.ValuesOf(points), arena.GradientsOf(points), noise, random);
            stepper.Step(arena);
        }

        double sum = 0;
        values = arena.ValuesOf(points);
        for (var index = 0; index < values.Length; index += 2)
        {
            var loss = valley.Loss(values[index], values[index + 1]);
            sum += double.IsFinite(loss) ? loss : double.PositiveInfinity;
        }

        return sum / options.Replicates;
    }

    /// <summary>The transform this experiment uses for <paramref name="optimizer"/>; every coordinate decays (as in the paper's script).</summary>
    public static IGradientTransform Transform(NarrowingValleyOptions options, ValleyOptimizer optimizer, double learningRate)
    {
        ArgumentNullException.ThrowIfNull(options);
        static bool Everything(ParameterSlice slice) => true;
        return optimizer switch
        {
            ValleyOptimizer.Adam => new Chain(
                new ScaleByAdam(0.9, 0.999, 1e-8),
                new AddDecayedWeights(options.WeightDecay),
                new ScaleByLearningRate(learningRate)),
            ValleyOptimizer.Signum => Optimizers.Signum(new SignumOptions(learningRate) { Beta1 = 0.9, WeightDecay = options.WeightDecay, Decays = Everything }),
            ValleyOptimizer.Focus => Optimizers.Focus(new FocusOptions(learningRate)
            {
                Beta1 = 0.9,
                Beta2 = 0.9,
                Gamma = 0.2,
                WeightDecay = options.WeightDecay,
                Placement = options.FocusPlacement,
                Decays = Everything,
            }),
            _ => throw new ArgumentOutOfRangeException(nameof(optimizer), optimizer, "Unknown optimizer."),
        };
    }

    private static NarrowingValleyCell RunCell(NarrowingValleyOptions options, NarrowingValley valley, double noise, int seed, Parallelism parallelism,
        CancellationToken cancellationToken)
    {
        var rates = options.LearningRates;
        var optimizers = options.Optimizers;
        var losses = new double[optimizers.Count * rates.Count];
        parallelism.For(losses.Length, (start, end) =>
        {
            for (var run = start; run < end; run++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                losses[run] = MeanFinalLoss(options, valley, optimizers[run / rates.Count], rates[run % rates.Count], noise, new Random(seed), cancellationToken);
            }
        });

        var scores = new ValleyScore[optimizers.Count];
        for (var which = 0; which < optimizers.Count; which++)
        {
            var mine = losses.AsSpan(which * rates.Count, rates.Count).ToArray();
            var best = 0;
            for (var index = 1; index < mine.Length; index++)
            {
                if (mine[index] < mine[best]) best = index;
            }

            scores[which] = new ValleyScore(optimizers[which], mine[best], rates[best], mine);
        }

        return new NarrowingValleyCell(noise, valley.Sharpness, scores);
    }
}
