using TorchSharp;
using static TorchSharp.torch;

namespace Pipelines.Components.TorchSharp;

/// <summary>Loads TorchSharp's native runtime once and reports a failure with the fix, instead of TorchSharp's own message.</summary>
/// <remarks>
/// This library references the managed <c>TorchSharp</c> package only; the application references one runtime package:
/// <c>libtorch-cpu-linux-x64</c> (or <c>-win-x64</c>, <c>-osx-arm64</c>, or <c>libtorch-cpu</c> for all three), or a
/// <c>libtorch-cuda-*</c> package for NVIDIA GPUs. On Linux with a libstdc++ older than GCC 13's (GLIBCXX_3.4.32, e.g.
/// Debian 12) LibTorchSharp also needs the build step of <c>build/LibTorchSharpGlibcxx.targets</c>: without it the load
/// fails and TorchSharp claims, misleadingly, that no runtime package is referenced.
/// </remarks>
public static class TorchRuntime
{
    /// <summary>Loads the native runtime for <paramref name="deviceType"/> if it is not loaded yet.</summary>
    /// <exception cref="TorchRuntimeUnavailableException">The runtime cannot be loaded; the message says which package to reference.</exception>
    public static void EnsureAvailable(DeviceType deviceType = DeviceType.CPU)
    {
        try
        {
            InitializeDeviceType(deviceType);
        }
        catch (Exception exception) when (exception is NotSupportedException or TypeInitializationException or DllNotFoundException or InvalidOperationException)
        {
            throw Unavailable(deviceType, exception);
        }
    }

    /// <summary>The exception <see cref="EnsureAvailable"/> throws for TorchSharp's <paramref name="failure"/>.</summary>
    internal static TorchRuntimeUnavailableException Unavailable(DeviceType deviceType, Exception failure)
    {
        var package = deviceType == DeviceType.CUDA ? "libtorch-cuda-12.8-linux-x64 (or -win-x64)" : "libtorch-cpu-linux-x64 (or libtorch-cpu-win-x64, libtorch-cpu-osx-arm64)";
        var root = failure;
        while (root.InnerException is not null) root = root.InnerException;
        return new TorchRuntimeUnavailableException(
            $"TorchSharp's native runtime for {deviceType} could not be loaded. Reference the runtime package {package} " +
            "in the application (the version TorchSharp expects, e.g. 2.10.0 for TorchSharp 0.107); on Linux with a libstdc++ " +
            "older than GLIBCXX_3.4.32 (Debian 12) also import build/LibTorchSharpGlibcxx.targets. TorchSharp said: " + root.Message,
            failure);
    }
}
