using System.Reflection;
using System.Runtime.ExceptionServices;
using Microsoft.ML;
using Pipelines.Components.Serialization;

namespace Pipelines;

/// <summary>
/// Saving models so that a failure part way never leaves a damaged or half-written model file, and loading them so that
/// a refused file reports its own reason.
/// </summary>
public static class ModelOperationsExtensions
{
    /// <summary>
    /// Saves <paramref name="model"/> as <c>mlContext.Model.Save</c> does, but all at once or not at all: the file is
    /// written beside <paramref name="path"/> under a temporary name, flushed to disk and renamed over it, so an
    /// exception or a killed process leaves the previous file intact.
    /// </summary>
    /// <param name="catalog">ML.NET's model operations catalog (<c>mlContext.Model</c>).</param>
    /// <param name="model">The fitted model (any transformer or chain).</param>
    /// <param name="inputSchema">The schema of the data the model was fitted on, as for <c>Save</c>.</param>
    /// <param name="path">The model file; replaced only once the whole model is on disk.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or white space.</exception>
    public static void SaveAtomically(this ModelOperationsCatalog catalog, ITransformer model, DataViewSchema inputSchema, string path)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(model);
        AtomicFile.Write(path, stream => catalog.Save(model, inputSchema, stream));
    }

    /// <summary>
    /// Loads a model as <c>mlContext.Model.Load</c> does, but a loader's own exception reaches the caller as itself:
    /// ML.NET calls every transformer's loader by reflection, so <c>Load</c> reports, say, our
    /// <see cref="InvalidDataException"/> naming a NaN tensor wrapped in one <see cref="TargetInvocationException"/>
    /// per level of the chain. This rethrows the innermost exception with its original stack trace.
    /// </summary>
    /// <param name="catalog">ML.NET's model operations catalog (<c>mlContext.Model</c>).</param>
    /// <param name="path">The model file.</param>
    /// <param name="inputSchema">The schema the model was saved with.</param>
    /// <exception cref="InvalidDataException">The file is damaged or holds a model this version refuses (for example non-finite weights).</exception>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    public static ITransformer LoadModel(this ModelOperationsCatalog catalog, string path, out DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var stream = File.OpenRead(path);
        return catalog.LoadModel(stream, out inputSchema);
    }

    /// <summary>Loads a model from <paramref name="stream"/> as <see cref="LoadModel(ModelOperationsCatalog, string, out DataViewSchema)"/> does.</summary>
    /// <param name="catalog">ML.NET's model operations catalog (<c>mlContext.Model</c>).</param>
    /// <param name="stream">The model's bytes (left open).</param>
    /// <param name="inputSchema">The schema the model was saved with.</param>
    /// <exception cref="InvalidDataException">The stream is damaged or holds a model this version refuses.</exception>
    public static ITransformer LoadModel(this ModelOperationsCatalog catalog, Stream stream, out DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(stream);
        try
        {
            return catalog.Load(stream, out inputSchema);
        }
        catch (TargetInvocationException wrapped) when (wrapped.InnerException is not null)
        {
            Exception inner = wrapped;
            while (inner is TargetInvocationException { InnerException: { } next }) inner = next;
            ExceptionDispatchInfo.Throw(inner);
            throw; // Not reached: Throw does not return.
        }
    }
}
