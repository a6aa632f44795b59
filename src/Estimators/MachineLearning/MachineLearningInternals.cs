using System.Reflection;
using System.Runtime.CompilerServices;
using Microsoft.ML;
using Microsoft.ML.Data;

// Lets the loadable-class attributes that tools/ModelLoaderWeaver adds to this assembly name Microsoft.ML.Core's
// internal types (the runtime, not the compiler, honours this attribute).
[assembly: IgnoresAccessChecksTo("Microsoft.ML.Core")]

namespace Pipelines.MachineLearning;

/// <summary>
/// Every use of ML.NET's internal members by this library, in one place: writing and reading a transformer's part of
/// a model file, and creating a <see cref="SchemaShape.Column"/>.
/// </summary>
/// <remarks>
/// ML.NET lets third-party transformers be saved only through internal members of <see cref="ModelSaveContext"/> and
/// the internal <c>ModelLoadContext</c>. They are reached with <see cref="UnsafeAccessorAttribute"/> where the types
/// allow it and by reflection where they do not (<c>VersionInfo</c> is an internal struct). They are checked against
/// the pinned ML.NET version, <see cref="SupportedVersion"/>, on first use: another version fails at once with a
/// message, never later with a corrupt file. The tests in <c>tests/Estimators/MachineLearning</c> fail loudly when a
/// version bump breaks any of this.
/// </remarks>
internal static class MachineLearningInternals
{
    /// <summary>The ML.NET version these accessors were written and tested against (its informational version).</summary>
    public const string SupportedVersion = "6.0.0";

    private const string LoadContextTypeName = "Microsoft.ML.ModelLoadContext, Microsoft.ML.Core";

    private static readonly Assembly CoreAssembly = typeof(ModelSaveContext).Assembly;
    private static readonly Lazy<VersionMembers> Members = new(FindMembers);

    /// <summary>The informational version of the loaded Microsoft.ML.Core, such as <c>6.0.0+6eff5cc</c>.</summary>
    public static string LoadedVersion =>
        CoreAssembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>Throws when the loaded ML.NET is not <see cref="SupportedVersion"/>.</summary>
    /// <exception cref="NotSupportedException">Another ML.NET version is loaded.</exception>
    public static void EnsureSupportedVersion() => _ = Members.Value;

    /// <summary>A schema-shape column (its constructor is internal).</summary>
    public static SchemaShape.Column CreateColumn(string name, SchemaShape.Column.VectorKind kind, DataViewType itemType, bool isKey, SchemaShape? annotations = null)
    {
        EnsureSupportedVersion();
        return CreateSchemaShapeColumn(name, kind, itemType, isKey, annotations);
    }

    /// <summary>
    /// The environment (the <see cref="MLContext"/>) behind one of ML.NET's catalogs, such as
    /// <c>mlContext.Transforms.Text</c>, which ML.NET exposes only to its own assemblies.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="catalog"/> is not one of ML.NET's catalogs.</exception>
    public static Microsoft.ML.Runtime.IHostEnvironment GetEnvironment(object catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        EnsureSupportedVersion();
        var property = catalog.GetType().GetInterface("Microsoft.ML.Data.IInternalCatalog")?.GetProperty("Environment");
        return property?.GetValue(catalog) as Microsoft.ML.Runtime.IHostEnvironment
            ?? throw new ArgumentException($"{catalog.GetType().Name} is not an ML.NET catalog with an environment.", nameof(catalog));
    }

    /// <summary>Writes the model header of a transformer's part of a model file.</summary>
    public static void SetVersionInfo(ModelSaveContext context, ModelVersion version)
    {
        var members = Members.Value;
        members.SetVersionInfo.Invoke(context, [members.CreateVersionInfo(version)]);
    }

    /// <summary>The writer of a transformer's main model stream.</summary>
    public static BinaryWriter GetWriter(ModelSaveContext context)
    {
        EnsureSupportedVersion();
        return SaveContextWriter(context);
    }

    /// <summary>Writes a named binary entry beside the transformer's main stream.</summary>
    public static void SaveBinaryStream(ModelSaveContext context, string name, Action<BinaryWriter> write)
    {
        EnsureSupportedVersion();
        SaveContextBinaryStream(context, name, write);
    }

    /// <summary>Checks the header of a transformer's part of a model file against <paramref name="version"/>.</summary>
    /// <exception cref="InvalidDataException">The part was written by another transformer or by an unreadable version.</exception>
    public static void CheckAtModel(object loadContext, ModelVersion version)
    {
        var members = Members.Value;
        try
        {
            members.CheckAtModel.Invoke(loadContext, [members.CreateVersionInfo(version)]);
        }
        catch (TargetInvocationException exception) when (exception.InnerException is { } inner)
        {
            throw new InvalidDataException($"The model file's part for {version.LoaderSignature} cannot be read: {inner.Message}", inner);
        }
    }

    /// <summary>The reader of a transformer's main model stream.</summary>
    public static BinaryReader GetReader(object loadContext)
    {
        EnsureSupportedVersion();
        return LoadContextReader(loadContext);
    }

    /// <summary>Reads a named binary entry beside the transformer's main stream; false when there is none.</summary>
    public static bool TryLoadBinaryStream(object loadContext, string name, Action<BinaryReader> read)
    {
        EnsureSupportedVersion();
        return LoadContextBinaryStream(loadContext, name, read);
    }

    [UnsafeAccessor(UnsafeAccessorKind.Constructor)]
    private static extern SchemaShape.Column CreateSchemaShapeColumn(string name, SchemaShape.Column.VectorKind vecKind, DataViewType itemType, bool isKey, SchemaShape? annotations);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "Writer")]
    private static extern ref BinaryWriter SaveContextWriter(ModelSaveContext context);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "SaveBinaryStream")]
    private static extern void SaveContextBinaryStream(ModelSaveContext context, string name, Action<BinaryWriter> action);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "Reader")]
    private static extern ref BinaryReader LoadContextReader([UnsafeAccessorType(LoadContextTypeName)] object context);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "TryLoadBinaryStream")]
    private static extern bool LoadContextBinaryStream([UnsafeAccessorType(LoadContextTypeName)] object context, string name, Action<BinaryReader> action);

    private static VersionMembers FindMembers()
    {
        var loaded = LoadedVersion;
        if (!loaded.StartsWith(SupportedVersion + "+", StringComparison.Ordinal) && loaded != SupportedVersion)
            throw new NotSupportedException(
                $"Pipelines.Estimators saves and loads models through ML.NET {SupportedVersion}; ML.NET {loaded} is loaded. " +
                $"Reference Microsoft.ML {SupportedVersion}, or a Pipelines release built for {loaded}.");
        const BindingFlags Instance = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;
        var versionInfoType = CoreAssembly.GetType("Microsoft.ML.VersionInfo", throwOnError: true)!;
        var loadContextType = CoreAssembly.GetType("Microsoft.ML.ModelLoadContext", throwOnError: true)!;
        var versionInfoConstructor = versionInfoType.GetConstructor(Instance,
            [typeof(string), typeof(uint), typeof(uint), typeof(uint), typeof(string), typeof(string), typeof(string)])
            ?? throw Missing("VersionInfo(string, uint, uint, uint, string, string, string)");
        var setVersionInfo = typeof(ModelSaveContext).GetMethod("SetVersionInfo", Instance, [versionInfoType])
            ?? throw Missing("ModelSaveContext.SetVersionInfo(VersionInfo)");
        var checkAtModel = loadContextType.GetMethod("CheckAtModel", Instance, [versionInfoType])
            ?? throw Missing("ModelLoadContext.CheckAtModel(VersionInfo)");
        return new VersionMembers(versionInfoConstructor, setVersionInfo, checkAtModel);

        static NotSupportedException Missing(string member) =>
            new($"ML.NET {LoadedVersion} lacks the internal member {member} that Pipelines.Estimators uses to save models.");
    }

    private sealed record VersionMembers(ConstructorInfo VersionInfoConstructor, MethodInfo SetVersionInfo, MethodInfo CheckAtModel)
    {
        public object CreateVersionInfo(ModelVersion version) => VersionInfoConstructor.Invoke(
            [version.ModelSignature, version.WrittenVersion, version.ReadableVersion, version.OldestReadableVersion,
             version.LoaderAssemblyName, version.LoaderSignature, null]);
    }
}

/// <summary>
/// The header ML.NET writes before a transformer's part of a model file: who wrote it, which versions can read it,
/// and the loader (assembly and signature) that <c>Model.Load</c> calls.
/// </summary>
/// <param name="ModelSignature">Eight characters naming the format, such as <c>"PLBPETOK"</c>.</param>
/// <param name="WrittenVersion">The format version written now.</param>
/// <param name="ReadableVersion">The oldest reader version that can read what is written now.</param>
/// <param name="OldestReadableVersion">The oldest written version this code can read.</param>
/// <param name="LoaderSignature">The name the loader is registered under (at most 24 characters).</param>
/// <param name="LoaderAssemblyName">The assembly holding the loader.</param>
internal sealed record ModelVersion(string ModelSignature, uint WrittenVersion, uint ReadableVersion, uint OldestReadableVersion,
    string LoaderSignature, string LoaderAssemblyName);
