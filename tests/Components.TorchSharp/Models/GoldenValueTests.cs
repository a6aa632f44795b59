using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Models;
using Pipelines.Components.Serialization;
using Pipelines.Components.TorchSharp.Tests.Support;
using static TorchSharp.torch;

namespace Pipelines.Components.TorchSharp.Tests.Models;

/// <summary>
/// The TorchSharp modules against PyTorch's float64 golden values (the managed engine's fixtures,
/// <c>tests/Components/Fixtures/make_golden.py</c>): logits, loss and every parameter gradient within 1e-4 relative
/// (floor: 1% of each tensor's largest magnitude).
/// </summary>
[TestClass]
public sealed class GoldenValueTests
{
    private const double Relative = 1e-4;
    private const double Floor = 1e-2;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void GptMatchesPyTorch()
    {
        var file = SafeTensors.Read(Path.Combine(AppContext.BaseDirectory, "Fixtures", "gpt_golden.safetensors"));
        var shape = file["input.config"].ToInt32Array(); // layers, heads, dim, ctx, vocab, batch, tokens
        using var scope = NewDisposeScope();
        using var module = new TorchGptModel(new TransformerConfig(shape[0], shape[1], shape[2], shape[3], shape[4]), TorchTestDevice.Cpu);
        module.LoadFrom(Weights(file, module));

        var logits = module.forward(TorchTestDevice.Int64Tensor(file["input.tokens"].ToInt32Array(), shape[5], shape[6]));
        var loss = TorchGptModel.Loss(logits, TorchTestDevice.Int64Tensor(file["input.targets"].ToInt32Array(), shape[5], shape[6]));
        loss.backward();

        Compare(file, module, logits, loss, "GPT, TorchSharp against PyTorch");
    }

    [TestMethod]
    public void EncoderMatchesPyTorch()
    {
        var file = SafeTensors.Read(Path.Combine(AppContext.BaseDirectory, "Fixtures", "encoder_golden.safetensors"));
        var shape = file["input.config"].ToInt32Array(); // layers, heads, dim, ctx, vocab, batch, tokens, classes
        using var scope = NewDisposeScope();
        using var module = new TorchEncoderClassifier(new TransformerConfig(shape[0], shape[1], shape[2], shape[3], shape[4]), shape[7], TorchTestDevice.Cpu);
        module.LoadFrom(Weights(file, module));

        var mask = TorchTestDevice.Int64Tensor(file["input.mask"].ToInt32Array(), shape[5], shape[6]);
        var logits = module.forward(TorchTestDevice.Int64Tensor(file["input.tokens"].ToInt32Array(), shape[5], shape[6]), mask);
        var loss = TorchEncoderClassifier.Loss(logits, TorchTestDevice.Int64Tensor(file["input.labels"].ToInt32Array(), shape[5]));
        loss.backward();

        Compare(file, module, logits, loss, "encoder, TorchSharp against PyTorch");
    }

    /// <summary>The fixture's weight tensors only (it also holds inputs, outputs and gradients).</summary>
    private static SafeTensorFile Weights(SafeTensorFile file, nn.Module module)
    {
        var names = module.named_parameters().Select(pair => pair.name).ToHashSet();
        return new SafeTensorFile(file.Tensors.Where(tensor => names.Contains(tensor.Name)));
    }

    private void Compare(SafeTensorFile file, nn.Module module, Tensor logits, Tensor loss, string what)
    {
        var comparison = new TensorComparison(TestContext, Relative, Floor);
        comparison.Compare("logits", file["output.logits"].ToSingleArray(), TorchParameters.ToSingleArray(logits));
        comparison.Compare("loss", file["output.loss"].ToSingleArray(), TorchParameters.ToSingleArray(loss));
        foreach (var (name, parameter) in module.named_parameters())
        {
            Assert.IsNotNull(parameter.grad, $"No gradient reached {name}.");
            comparison.Compare("grad." + name, file["grad." + name].ToSingleArray(), TorchParameters.ToSingleArray(parameter.grad));
        }

        comparison.Summarize(what);
    }
}
