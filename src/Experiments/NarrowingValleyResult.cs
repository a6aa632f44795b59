namespace Pipelines.Experiments;

/// <summary>One optimizer's score in one cell: its best mean final loss over the learning rates.</summary>
/// <param name="Optimizer">The optimizer.</param>
/// <param name="BestLoss">The lowest mean final loss over the learning rates (+infinity if every rate diverged).</param>
/// <param name="BestLearningRate">The learning rate that reached it.</param>
/// <param name="MeanFinalLosses">The mean final loss at each learning rate, in the options' order.</param>
public sealed record ValleyScore(ValleyOptimizer Optimizer, double BestLoss, double BestLearningRate, IReadOnlyList<double> MeanFinalLosses);

/// <summary>The scores of every optimizer at one (noise, sharpness) point.</summary>
/// <param name="NoiseLevel">sigma.</param>
/// <param name="Sharpness">a.</param>
/// <param name="Scores">One per optimizer, in the options' order.</param>
public sealed record NarrowingValleyCell(double NoiseLevel, double Sharpness, IReadOnlyList<ValleyScore> Scores)
{
    /// <summary>The score of <paramref name="optimizer"/>.</summary>
    /// <exception cref="KeyNotFoundException">The optimizer was not run.</exception>
    public ValleyScore this[ValleyOptimizer optimizer] =>
        Scores.FirstOrDefault(score => score.Optimizer == optimizer) ?? throw new KeyNotFoundException($"{optimizer} was not run.");

    /// <summary>The optimizer with the lowest best loss (the first listed on a tie): the colour of the paper's phase diagram.</summary>
    public ValleyOptimizer Winner => Scores.MinBy(score => score.BestLoss)!.Optimizer;
}

/// <summary>Progress of a <see cref="NarrowingValleyExperiment"/> run: reported after each cell.</summary>
/// <param name="CompletedCells">Cells done so far.</param>
/// <param name="TotalCells">Cells in the grid.</param>
/// <param name="LastCell">The cell just finished.</param>
public sealed record NarrowingValleyProgress(int CompletedCells, int TotalCells, NarrowingValleyCell LastCell);
