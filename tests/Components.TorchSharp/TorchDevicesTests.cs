using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;

namespace Pipelines.Components.TorchSharp.Tests;

[TestClass]
public sealed class TorchDevicesTests
{
    [TestMethod]
    [DataRow("cpu", DeviceType.CPU, -1)]
    [DataRow("CPU", DeviceType.CPU, -1)]
    [DataRow("cuda:1", DeviceType.CUDA, 1)]
    [DataRow(" mps:0 ", DeviceType.MPS, 0)]
    public void WellFormedDescriptionsParse(string description, DeviceType type, int index)
    {
        var device = TorchDevices.Parse(description);
        Assert.AreEqual(type, device.type);
        Assert.AreEqual(index, device.index);
    }

    [TestMethod]
    [DataRow("")]
    [DataRow("gpu")]
    [DataRow("cuda:")]
    [DataRow("cuda:x")]
    [DataRow("cuda:-1")]
    [DataRow("cuda:0:1")]
    [DataRow("1")]
    public void MalformedDescriptionsThrowNamingTheValue(string description)
    {
        var exception = Assert.ThrowsExactly<ArgumentException>(() => TorchDevices.Parse(description));
        Assert.AreEqual("description", exception.ParamName);
        StringAssert.Contains(exception.Message, $"'{description}' is not a device");
        StringAssert.Contains(exception.Message, "cpu, cuda");
    }

    [TestMethod]
    public void ResolvingTheCpuLoadsTheRuntime()
    {
        var device = TorchDevices.Resolve("cpu");
        using var ones = torch.ones(2, 3, device: device);
        Assert.AreEqual(6f, ones.sum().item<float>());
    }
}
