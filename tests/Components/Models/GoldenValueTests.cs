using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Serialization;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Tests.Models;

/// <summary>
/// The engine against PyTorch: logits, loss and every parameter gradient of tiny seeded models, computed in
/// float64 by <c>Fixtures/make_golden.py</c> from the same weights. Tolerance 1e-4 relative, 1e-5 absolute.
/// Prints OK / NOT OK per tensor, as llm.c's test does.
/// </summary>
[TestClass]
public sealed class GoldenValueTests
{
    private const double Relative = 1e-4;
    private const double Absolute = 1e-5;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    public void GptMatchesPyTorch(int threads)
    {
        var file = SafeTensors.Read(Path.Combine(AppContext.BaseDirectory, "Fixtures", "gpt_golden.safetensors"));
        var shape = file["input.config"].ToInt32Array(); // layers, heads, dim, ctx, vocab, batch, tokens
        var model = new GptModel(new TransformerConfig(shape[0], shape[1], shape[2], shape[3], shape[4]), new Parallelism(threads));
        LoadWeights(model.Parameters, file);

        model.Parameters.ZeroGradients();
        var loss = model.Forward(file["input.tokens"].ToInt32Array(), file["input.targets"].ToInt32Array(), shape[5], shape[6]);
        model.Backward();

        var failures = Compare("logits", file["output.logits"].ToSingleArray(), model.Logits);
        failures += Compare("loss", file["output.loss"].ToSingleArray(), [loss]);
        failures += CompareGradients(model.Parameters, file);
        Assert.AreEqual(0, failures, $"{failures} tensors differ from PyTorch's (see the output).");
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    public void EncoderMatchesPyTorch(int threads)
    {
        var file = SafeTensors.Read(Path.Combine(AppContext.BaseDirectory, "Fixtures", "encoder_golden.safetensors"));
        var shape = file["input.config"].ToInt32Array(); // layers, heads, dim, ctx, vocab, batch, tokens, classes
        var model = new EncoderClassifier(new TransformerConfig(shape[0], shape[1], shape[2], shape[3], shape[4]), shape[7], new Parallelism(threads));
        LoadWeights(model.Parameters, file);
        var mask = file["input.mask"].ToInt32Array().Select(value => (byte)value).ToArray();

        model.Parameters.ZeroGradients();
        var loss = model.Forward(file["input.tokens"].ToInt32Array(), mask, file["input.labels"].ToInt32Array(), shape[5], shape[6]);
        model.Backward();

        var failures = Compare("logits", file["output.logits"].ToSingleArray(), model.Logits);
        failures += Compare("loss", file["output.loss"].ToSingleArray(), [loss]);
        failures += CompareGradients(model.Parameters, file);
        Assert.AreEqual(0, failures, $"{failures} tensors differ from PyTorch's (see the output).");
    }

    private static void LoadWeights(ParameterArena arena, SafeTensorFile file)
    {
        foreach (var parameter in arena.Parameters) file[parameter.Name].CopyTo(arena.ValuesOf(parameter));
    }

    private int CompareGradients(ParameterArena arena, SafeTensorFile file) =>
        arena.Parameters.Sum(parameter => Compare("grad." + parameter.Name, file["grad." + parameter.Name].ToSingleArray(), arena.GradientsOf(parameter)));

    private int Compare(string name, float[] expected, ReadOnlySpan<float> actual)
    {
        if (expected.Length != actual.Length)
        {
            TestContext.WriteLine($"NOT OK {name}: {actual.Length} values, PyTorch has {expected.Length}");
            return 1;
        }

        var worst = 0.0;
        var worstIndex = -1;
        for (var index = 0; index < expected.Length; index++)
        {
            var excess = Math.Abs(expected[index] - actual[index]) - (Absolute + Relative * Math.Abs(expected[index]));
            if (excess > worst)
            {
                worst = excess;
                worstIndex = index;
            }
        }

        if (worstIndex < 0)
        {
            TestContext.WriteLine($"OK {name}");
            return 0;
        }

        TestContext.WriteLine($"NOT OK {name}: at {worstIndex} PyTorch {expected[worstIndex]:G8}, engine {actual[worstIndex]:G8}");
        return 1;
    }
}
