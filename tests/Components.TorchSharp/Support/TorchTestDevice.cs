using static TorchSharp.torch;

namespace Pipelines.Components.TorchSharp.Tests.Support;

/// <summary>The device the tests run on: the CPU (this machine has no GPU), loaded through <see cref="TorchDevices.Resolve"/>.</summary>
internal static class TorchTestDevice
{
    public static Device Cpu { get; } = TorchDevices.Resolve("cpu");

    public static Tensor Int64Tensor(int[] values, params long[] shape) =>
        tensor(values.Select(value => (long)value).ToArray(), shape, device: Cpu);
}
