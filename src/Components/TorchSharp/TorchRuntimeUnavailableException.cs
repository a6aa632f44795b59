namespace Pipelines.Components.TorchSharp;

/// <summary>Thrown when TorchSharp's native libraries (LibTorchSharp and libtorch) cannot be loaded or lack a device type.</summary>
/// <remarks>The message names the runtime package to reference; the inner exception is TorchSharp's own.</remarks>
public sealed class TorchRuntimeUnavailableException : InvalidOperationException
{
    /// <summary>Creates the exception with a message and TorchSharp's original exception.</summary>
    public TorchRuntimeUnavailableException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
