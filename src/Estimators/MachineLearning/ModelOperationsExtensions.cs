using Microsoft.ML;
using Pipelines.Components.Serialization;

namespace Pipelines;

/// <summary>Saving models so that a failure part way never leaves a damaged or half-written model file.</summary>
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
}
