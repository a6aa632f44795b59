namespace Pipelines.Components.Training;

/// <summary>A resume refused because the resuming run differs from the checkpoint's run; the message lists every difference.</summary>
/// <remarks>
/// An <see cref="InvalidOperationException"/>: the checkpoint is sound, but resuming it under this run is not a valid
/// operation. (A checkpoint that cannot be read at all throws <see cref="InvalidDataException"/>.)
/// </remarks>
public sealed class RunChangedException : InvalidOperationException
{
    /// <summary>Creates the exception for the checkpoint at <paramref name="path"/> and its <paramref name="differences"/>.</summary>
    public RunChangedException(string path, IReadOnlyList<RunDifference> differences)
        : base(Describe(path, differences))
    {
        Differences = differences;
    }

    /// <summary>Every difference not declared in the accepted changes, named with the checkpoint's and the current value.</summary>
    public IReadOnlyList<RunDifference> Differences { get; }

    /// <summary>The kinds of change that would have to be accepted for the resume to go ahead.</summary>
    public RunChanges Kinds => Differences.Aggregate(RunChanges.None, (kinds, difference) => kinds | difference.Kind);

    private static string Describe(string path, IReadOnlyList<RunDifference> differences)
    {
        var kinds = differences.Aggregate(RunChanges.None, (all, difference) => all | difference.Kind);
        return $"Checkpoint '{path}' was trained under a different run, so resuming it would silently change the run. "
            + $"{differences.Count} difference(s): {string.Join("; ", differences)}. "
            + $"To resume with these changes on purpose, declare them: AcceptedChanges = {kinds} (RunChanges) in the trainer options, "
            + $"or the estimator option AcceptedRunChanges = {kinds}.";
    }
}
