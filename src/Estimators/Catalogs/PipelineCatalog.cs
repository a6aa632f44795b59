namespace Pipelines;

/// <summary>
/// What every catalog holds: its context, and seeds derived under the catalog's name. Estimators are added to a
/// catalog as extension methods, a simple overload and an options-record overload:
/// <code>
/// public static TokenizerEstimator Tokenize(this TextCatalog catalog, string outputColumnName, string inputColumnName) =&gt; ...;
/// public static TokenizerEstimator Tokenize(this TextCatalog catalog, TokenizerOptions options) =&gt; new(catalog.Context, options);
/// </code>
/// </summary>
public abstract class PipelineCatalog
{
    private protected PipelineCatalog(PipelineContext context, string name)
    {
        Context = context;
        Name = name;
    }

    /// <summary>The context this catalog belongs to.</summary>
    public PipelineContext Context { get; }

    /// <summary>The catalog's name, which prefixes the purposes of its seeds.</summary>
    public string Name { get; }

    /// <summary>The seed for <paramref name="purpose"/> within this catalog: <c>Context.DeriveSeed(Name + "/" + purpose)</c>.</summary>
    public int DeriveSeed(string purpose)
    {
        ArgumentNullException.ThrowIfNull(purpose);
        return Context.DeriveSeed($"{Name}/{purpose}");
    }
}

/// <summary>General-purpose transforms (<c>context.Transforms</c>).</summary>
public sealed class TransformsCatalog : PipelineCatalog
{
    internal TransformsCatalog(PipelineContext context) : base(context, "Transforms") { }
}

/// <summary>Text transforms such as tokenizers (<c>context.Text</c>).</summary>
public sealed class TextCatalog : PipelineCatalog
{
    internal TextCatalog(PipelineContext context) : base(context, "Text") { }
}

/// <summary>Language-model pretraining estimators (<c>context.Pretraining</c>).</summary>
public sealed class PretrainingCatalog : PipelineCatalog
{
    internal PretrainingCatalog(PipelineContext context) : base(context, "Pretraining") { }
}

/// <summary>Fine-tuning estimators (<c>context.FineTuning</c>).</summary>
public sealed class FineTuningCatalog : PipelineCatalog
{
    internal FineTuningCatalog(PipelineContext context) : base(context, "FineTuning") { }
}

/// <summary>Optimizers (<c>context.Optimizers</c>).</summary>
public sealed class OptimizersCatalog : PipelineCatalog
{
    internal OptimizersCatalog(PipelineContext context) : base(context, "Optimizers") { }
}

/// <summary>Learning-rate schedules (<c>context.Schedules</c>).</summary>
public sealed class SchedulesCatalog : PipelineCatalog
{
    internal SchedulesCatalog(PipelineContext context) : base(context, "Schedules") { }
}

/// <summary>Sparsity and pruning (<c>context.Sparsity</c>).</summary>
public sealed class SparsityCatalog : PipelineCatalog
{
    internal SparsityCatalog(PipelineContext context) : base(context, "Sparsity") { }
}

/// <summary>Low-rank adaptation (<c>context.Lora</c>).</summary>
public sealed class LoraCatalog : PipelineCatalog
{
    internal LoraCatalog(PipelineContext context) : base(context, "Lora") { }
}

/// <summary>Differential privacy (<c>context.Privacy</c>).</summary>
public sealed class PrivacyCatalog : PipelineCatalog
{
    internal PrivacyCatalog(PipelineContext context) : base(context, "Privacy") { }
}
