using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace Pipelines;

/// <summary>
/// What every Pipelines catalog holds: the <see cref="MLContext"/> it hangs off. Estimators are added to a catalog as
/// extension methods, a simple overload and an options overload, as ML.NET's own catalogs are.
/// </summary>
/// <remarks>
/// Random choices follow ML.NET: an estimator made without an explicit seed draws one from the context's seeded
/// generator when it is created, so <c>new MLContext(seed)</c> and the same pipeline give the same run.
/// </remarks>
public abstract class PipelineCatalog
{
    private protected PipelineCatalog(MLContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Context = context;
    }

    /// <summary>The context this catalog belongs to.</summary>
    public MLContext Context { get; }

    /// <summary>A host registered with the context under <paramref name="name"/>: its channel logs to <c>MLContext.Log</c>.</summary>
    internal IHost CreateHost(string name) => ((IHostEnvironment)Context).Register(name);
}

/// <summary>Language-model pretraining estimators (<c>mlContext.Pretraining()</c>).</summary>
public sealed class PretrainingCatalog : PipelineCatalog
{
    internal PretrainingCatalog(MLContext context) : base(context) { }
}

/// <summary>Sparsity and pruning (<c>mlContext.Sparsity()</c>).</summary>
public sealed class SparsityCatalog : PipelineCatalog
{
    internal SparsityCatalog(MLContext context) : base(context) { }
}

/// <summary>Optimizers for the training estimators' options (<c>mlContext.Optimizers()</c>).</summary>
public sealed class OptimizersCatalog : PipelineCatalog
{
    internal OptimizersCatalog(MLContext context) : base(context) { }
}

/// <summary>Learning-rate schedules for the training estimators' options (<c>mlContext.Schedules()</c>).</summary>
public sealed class SchedulesCatalog : PipelineCatalog
{
    internal SchedulesCatalog(MLContext context) : base(context) { }
}

/// <summary>
/// The Pipelines catalogs on an <see cref="MLContext"/>, in the way Microsoft.ML.AutoML adds <c>mlContext.Auto()</c>.
/// The tokenizer and the classifier sit in ML.NET's own catalogs: <c>mlContext.Transforms.Text.TrainBytePairEncoding</c>
/// and <c>mlContext.MulticlassClassification.Trainers.TextClassifier</c>.
/// </summary>
public static class MLContextCatalogs
{
    /// <summary>Language-model pretraining: <c>mlContext.Pretraining().CausalLanguageModel(...)</c>.</summary>
    public static PretrainingCatalog Pretraining(this MLContext context) => new(context);

    /// <summary>Sparse pre-training: <c>mlContext.Sparsity().SparsePretraining(...)</c>.</summary>
    public static SparsityCatalog Sparsity(this MLContext context) => new(context);

    /// <summary>Optimizer chains (FOCUS, AdamW, Signum, SGD) for the training options.</summary>
    public static OptimizersCatalog Optimizers(this MLContext context) => new(context);

    /// <summary>Learning-rate schedules (WSD, WSD-S, cosine, ...) for the training options.</summary>
    public static SchedulesCatalog Schedules(this MLContext context) => new(context);
}
