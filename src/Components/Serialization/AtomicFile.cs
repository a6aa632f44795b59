namespace Pipelines.Components.Serialization;

/// <summary>
/// Writes a file all at once or not at all: the content goes to a temporary file in the same directory, is flushed
/// to disk, then renamed over the destination. A crash or an exception leaves the previous file intact.
/// </summary>
/// <remarks>
/// Used for training checkpoints (<see cref="Training.TrainingCheckpoint"/>) and meant for model files too. The rename is
/// atomic on POSIX file systems and replaces the file in one step on Windows. A process killed at any moment leaves either
/// the previous file or the new one, never a mixture; at worst a hidden <c>.name.*.tmp</c> file stays behind.
/// </remarks>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> with <paramref name="write"/>, creating its directory if needed.</summary>
    /// <param name="path">The destination; replaced only once <paramref name="write"/> has returned and the data is on disk.</param>
    /// <param name="write">Writes the whole content to the stream it is given (do not dispose it).</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or white space.</exception>
    /// <remarks>Whatever <paramref name="write"/> throws propagates after the temporary file is removed; the destination is untouched.</remarks>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        var temporary = PrepareTemporary(path);
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>Writes <paramref name="path"/> with the asynchronous <paramref name="write"/>; see <see cref="Write"/>.</summary>
    /// <param name="path">The destination.</param>
    /// <param name="write">Writes the whole content to the stream it is given (do not dispose it).</param>
    /// <param name="cancellationToken">Cancels before the rename; the destination is then untouched.</param>
    public static async Task WriteAsync(string path, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(write);
        var temporary = PrepareTemporary(path);
        try
        {
            await using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 81920, useAsync: true))
            {
                await write(stream, cancellationToken).ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            cancellationToken.ThrowIfCancellationRequested();
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    private static string PrepareTemporary(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var fullPath = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(fullPath)!;
        Directory.CreateDirectory(directory);
        return Path.Combine(directory, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // The original failure matters more than a leftover temporary file.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
