namespace Pipelines.MachineLearning
{
    /// <summary>
    /// Marks a transformer that <c>MLContext.Model.Load</c> can read back as its own type, under
    /// <paramref name="loaderSignature"/>.
    /// </summary>
    /// <remarks>
    /// The class must declare <c>static TSelf Create(IHostEnvironment environment, object loadContext)</c>. The build step
    /// <c>tools/ModelLoaderWeaver</c> turns each mark into the assembly-level <c>LoadableClass</c> registration that
    /// ML.NET looks for when a model file names this assembly, so users need no registration call.
    /// </remarks>
    [AttributeUsage(AttributeTargets.Class, Inherited = false)]
    internal sealed class MachineLearningModelLoaderAttribute(string loaderSignature) : Attribute
    {
        /// <summary>The name the loader is registered under.</summary>
        public string LoaderSignature { get; } = loaderSignature;
    }
}

namespace System.Runtime.CompilerServices
{
    /// <summary>Honoured by the .NET runtime: this assembly may use the named assembly's internal types.</summary>
    [AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
    internal sealed class IgnoresAccessChecksToAttribute(string assemblyName) : Attribute
    {
        /// <summary>The assembly whose internals are used.</summary>
        public string AssemblyName { get; } = assemblyName;
    }
}
