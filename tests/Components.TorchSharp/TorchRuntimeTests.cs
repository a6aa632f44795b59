using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;

namespace Pipelines.Components.TorchSharp.Tests;

[TestClass]
public sealed class TorchRuntimeTests
{
    [TestMethod]
    public void TheCpuRuntimeLoadsHere() => TorchRuntime.EnsureAvailable(DeviceType.CPU);

    [TestMethod]
    public void AFailedLoadNamesThePackageToReference()
    {
        // TorchSharp's own failure: a type initializer wrapping its (misleading) claim that no runtime package is referenced.
        var failure = new TypeInitializationException("TorchSharp.torch", new NotSupportedException("This application or script uses TorchSharp but doesn't contain a reference to libtorch-cpu-linux-x64."));
        var exception = TorchRuntime.Unavailable(DeviceType.CPU, failure);

        StringAssert.Contains(exception.Message, "Reference the runtime package libtorch-cpu-linux-x64");
        StringAssert.Contains(exception.Message, "build/LibTorchSharpGlibcxx.targets");
        StringAssert.Contains(exception.Message, "TorchSharp said: This application");
        Assert.AreSame(failure, exception.InnerException);
        StringAssert.Contains(TorchRuntime.Unavailable(DeviceType.CUDA, failure).Message, "libtorch-cuda");
    }

    [TestMethod]
    public void AMissingDeviceTypeIsReportedAsUnavailable()
    {
        if (torch.cuda.is_available()) Assert.Inconclusive("This machine has CUDA.");
        var exception = Assert.ThrowsExactly<TorchRuntimeUnavailableException>(() => TorchDevices.Resolve("cuda:0"));
        StringAssert.Contains(exception.Message, "libtorch-cuda");
    }
}
