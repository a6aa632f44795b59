using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Pipelines;

/// <summary>
/// The entry point of the library, as ML.NET's <c>MLContext</c>: a seed and a logger factory, and the catalogs whose
/// extension methods create estimators (<c>context.Transforms.CopyColumns(...)</c>).
/// </summary>
/// <remarks>
/// There is no global state: every random choice an estimator makes comes from a seed derived from this context's
/// <see cref="Seed"/> and a purpose string (<see cref="DeriveSeed"/>), so the same seed gives the same run.
/// </remarks>
public sealed class PipelineContext
{
    /// <summary>Creates a context.</summary>
    /// <param name="seed">The root seed; null draws one at random (read it back from <see cref="Seed"/> to repeat the run).</param>
    /// <param name="loggerFactory">Where estimators log; null logs nowhere.</param>
    public PipelineContext(int? seed = null, ILoggerFactory? loggerFactory = null)
    {
        Seed = seed ?? RandomNumberGenerator.GetInt32(int.MaxValue);
        LoggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        Data = new DataOperationsCatalog(this);
        Transforms = new TransformsCatalog(this);
        Text = new TextCatalog(this);
        Pretraining = new PretrainingCatalog(this);
        FineTuning = new FineTuningCatalog(this);
        Model = new ModelOperationsCatalog(this);
        Optimizers = new OptimizersCatalog(this);
        Schedules = new SchedulesCatalog(this);
        Sparsity = new SparsityCatalog(this);
        Lora = new LoraCatalog(this);
        Privacy = new PrivacyCatalog(this);
    }

    /// <summary>The root seed.</summary>
    public int Seed { get; }

    /// <summary>Where estimators log.</summary>
    public ILoggerFactory LoggerFactory { get; }

    /// <summary>Loading, splitting and converting data.</summary>
    public DataOperationsCatalog Data { get; }

    /// <summary>General-purpose transforms (copying columns, custom mappings).</summary>
    public TransformsCatalog Transforms { get; }

    /// <summary>Text: tokenizers and the like.</summary>
    public TextCatalog Text { get; }

    /// <summary>Language-model pretraining estimators.</summary>
    public PretrainingCatalog Pretraining { get; }

    /// <summary>Fine-tuning estimators.</summary>
    public FineTuningCatalog FineTuning { get; }

    /// <summary>Saving, loading and running models.</summary>
    public ModelOperationsCatalog Model { get; }

    /// <summary>Optimizers.</summary>
    public OptimizersCatalog Optimizers { get; }

    /// <summary>Learning-rate schedules.</summary>
    public SchedulesCatalog Schedules { get; }

    /// <summary>Sparsity and pruning.</summary>
    public SparsityCatalog Sparsity { get; }

    /// <summary>Low-rank adaptation.</summary>
    public LoraCatalog Lora { get; }

    /// <summary>Differential privacy.</summary>
    public PrivacyCatalog Privacy { get; }

    /// <summary>
    /// A seed for one purpose (such as <c>"Data/TrainTestSplit"</c>), a pure function of <see cref="Seed"/> and
    /// <paramref name="purpose"/>: stable across runs, machines and call order.
    /// </summary>
    /// <remarks>FNV-1a over the purpose's UTF-8 bytes, mixed with the seed by the SplitMix64 finalizer; the result is non-negative.</remarks>
    public int DeriveSeed(string purpose)
    {
        ArgumentNullException.ThrowIfNull(purpose);
        var hash = 14695981039346656037UL;
        foreach (var value in Encoding.UTF8.GetBytes(purpose))
        {
            hash ^= value;
            hash *= 1099511628211UL;
        }

        var mixed = hash ^ ((ulong)(uint)Seed * 0x9E3779B97F4A7C15UL);
        mixed = (mixed ^ (mixed >> 30)) * 0xBF58476D1CE4E5B9UL;
        mixed = (mixed ^ (mixed >> 27)) * 0x94D049BB133111EBUL;
        mixed ^= mixed >> 31;
        return (int)(mixed >> 33);
    }

    /// <summary>A random number generator seeded with <see cref="DeriveSeed"/>(<paramref name="purpose"/>).</summary>
    public Random CreateRandom(string purpose) => new(DeriveSeed(purpose));
}
