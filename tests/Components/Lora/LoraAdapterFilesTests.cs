using System.Diagnostics;
using System.Text.Json;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Compute;
using Pipelines.Components.Lora;
using Pipelines.Components.Models;
using Pipelines.Components.Serialization;
using Pipelines.Components.Tests.Support;
using static Pipelines.Components.Tests.Lora.LoraTestModels;
using Pipelines.Tests.Support;

namespace Pipelines.Components.Tests.Lora;

/// <summary>
/// PEFT-format adapter files. The fixture in <c>Fixtures/lora</c> holds a tiny GPT's base weights and an adapter written by
/// this code, and <c>merged.safetensors</c> written from them by <c>tools/python/merge_lora_adapter.py</c> (numpy only):
/// <code>/usr/bin/python3 tools/python/merge_lora_adapter.py tests/Components/Fixtures/lora/base.safetensors tests/Components/Fixtures/lora/adapter tests/Components/Fixtures/lora/merged.safetensors</code>
/// To regenerate base and adapter, run the tests with PIPELINES_WRITE_LORA_FIXTURE set to that fixture folder, then the script.
/// </summary>
[TestClass]
public sealed class LoraAdapterFilesTests
{
    private static readonly string FixtureDirectory = Path.Combine(AppContext.BaseDirectory, "Fixtures", "lora");

    /// <summary>Layer 0: rank 2, alpha 4 on qkv and out; layer 2: rank 3, alpha 5 on proj and fc (so rank_pattern and alpha_pattern are used).</summary>
    private static readonly LoraInjectionPlan MixedPlan = new(
        [new LoraLayerPlan(0, 2, 4, [LoraProjection.Qkv, LoraProjection.Contract]), new LoraLayerPlan(2, 3, 5, [LoraProjection.Projection, LoraProjection.Expand])],
        Dropout: 0.1);

    [TestMethod]
    public void TheCommittedFixtureIsWhatThisCodeWrites()
    {
        var directory = TemporaryDirectory();
        var (gpt, adapter) = FixtureModel();
        gpt.Parameters.SaveSafeTensors(Path.Combine(directory, "base.safetensors"));
        LoraAdapterFiles.Save(adapter, Path.Combine(directory, "adapter"));
        if (Environment.GetEnvironmentVariable("PIPELINES_WRITE_LORA_FIXTURE") is { Length: > 0 } target)
        {
            Directory.CreateDirectory(Path.Combine(target, "adapter"));
            foreach (var name in new[] { "base.safetensors", "adapter/adapter_model.safetensors", "adapter/adapter_config.json" })
                File.Copy(Path.Combine(directory, name), Path.Combine(target, name), overwrite: true);
        }

        foreach (var name in new[] { "base.safetensors", "adapter/adapter_model.safetensors", "adapter/adapter_config.json" })
            CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(FixtureDirectory, name)), File.ReadAllBytes(Path.Combine(directory, name)), name);
    }

    [TestMethod]
    public void ThePythonMergeOfTheFixtureGivesOurAdaptedLogits()
    {
        var (adapted, lora) = LoadFixture();
        Run(adapted);
        var adaptedLogits = adapted.Logits.ToArray();

        var merged = new GptModel(Tiny, Parallelism.Sequential);
        merged.Parameters.LoadSafeTensors(Path.Combine(FixtureDirectory, "merged.safetensors"));
        Run(merged);
        GradientCheck.AssertClose(adaptedLogits, merged.Logits.ToArray(), "logits of the Python-merged weights", relative: 1e-5, absolute: 1e-5);

        lora.Merge();
        GradientCheck.AssertClose(merged.Parameters.Values.ToArray(), adapted.Parameters.Values.ToArray(), "our merged weights", relative: 1e-6, absolute: 1e-6);
    }

    [TestMethod]
    public void ThePythonScriptReproducesTheCommittedMerge()
    {
        const string python = "/usr/bin/python3";
        if (!File.Exists(python) || RunProcess(python, "-c \"import numpy\"").ExitCode != 0)
            Assert.Inconclusive($"{python} with numpy is not installed (Debian: apt-get install python3-numpy); the committed merged.safetensors is still checked by {nameof(ThePythonMergeOfTheFixtureGivesOurAdaptedLogits)}.");
        var script = RepositoryRoot.Combine("tools", "python", "merge_lora_adapter.py");
        var output = Path.Combine(TemporaryDirectory(), "merged.safetensors");
        var result = RunProcess(python, $"\"{script}\" \"{Path.Combine(FixtureDirectory, "base.safetensors")}\" \"{Path.Combine(FixtureDirectory, "adapter")}\" \"{output}\"");
        Assert.AreEqual(0, result.ExitCode, result.Output);
        var fresh = SafeTensors.Read(output);
        var committed = SafeTensors.Read(Path.Combine(FixtureDirectory, "merged.safetensors"));
        CollectionAssert.AreEqual(committed.Tensors.Select(tensor => tensor.Name).ToArray(), fresh.Tensors.Select(tensor => tensor.Name).ToArray());
        foreach (var tensor in committed.Tensors)
            CollectionAssert.AreEqual(tensor.ToSingleArray(), fresh[tensor.Name].ToSingleArray(), tensor.Name);
    }

    [TestMethod]
    public void ConfigHasPeftFieldsAndKeysHaveNoAdapterName()
    {
        var directory = TemporaryDirectory();
        LoraAdapterFiles.Save(new LoraAdapter(Tiny, LoraInjectionPlan.Uniform([1, 2], 4, 8, [LoraProjection.Qkv, LoraProjection.Expand], 0.05, useRsLora: true), 1), directory);
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, LoraAdapterFiles.ConfigFileName)));
        var root = config.RootElement;
        Assert.AreEqual("LORA", root.GetProperty("peft_type").GetString());
        Assert.AreEqual(4, root.GetProperty("r").GetInt32());
        Assert.AreEqual(8.0, root.GetProperty("lora_alpha").GetDouble());
        Assert.AreEqual(0.05, root.GetProperty("lora_dropout").GetDouble());
        CollectionAssert.AreEqual(new[] { "qkv", "fc" }, root.GetProperty("target_modules").EnumerateArray().Select(item => item.GetString()).ToArray());
        CollectionAssert.AreEqual(new[] { 1, 2 }, root.GetProperty("layers_to_transform").EnumerateArray().Select(item => item.GetInt32()).ToArray());
        Assert.IsTrue(root.GetProperty("use_rslora").GetBoolean());
        Assert.AreEqual("none", root.GetProperty("bias").GetString());
        Assert.IsFalse(root.GetProperty("fan_in_fan_out").GetBoolean());

        var weights = SafeTensors.Read(Path.Combine(directory, LoraAdapterFiles.WeightsFileName));
        var a = weights["base_model.model.blocks.1.qkv.lora_A.weight"];
        var b = weights["base_model.model.blocks.1.qkv.lora_B.weight"];
        CollectionAssert.AreEqual(new long[] { 4, 8 }, a.Shape.ToArray(), "lora_A is r x in");
        CollectionAssert.AreEqual(new long[] { 24, 4 }, b.Shape.ToArray(), "lora_B is out x r");
        Assert.AreEqual(8, weights.Tensors.Count);
    }

    [TestMethod]
    public void SaveThenLoadRoundTripsValuesAndPlan()
    {
        foreach (var plan in new[] { MixedPlan, LoraInjectionPlan.Uniform([0, 2], 2, 3, LoraProjections.All, useRsLora: true) })
        {
            var adapter = new LoraAdapter(Tiny, plan, 3);
            Randomize(adapter, seed: 70);
            var directory = TemporaryDirectory();
            LoraAdapterFiles.Save(adapter, directory);
            var loaded = LoraAdapterFiles.Load(directory, Tiny);
            Assert.AreEqual(plan.ToJson(), loaded.Plan.ToJson());
            CollectionAssert.AreEqual(adapter.Parameters.Values.ToArray(), loaded.Parameters.Values.ToArray());
            CollectionAssert.AreEqual(adapter.Modules.Select(module => module.Scale).ToArray(), loaded.Modules.Select(module => module.Scale).ToArray());
        }
    }

    [TestMethod]
    public void AnAdapterForAnotherBaseIsRejectedNamingTheTensor()
    {
        var directory = TemporaryDirectory();
        LoraAdapterFiles.Save(new LoraAdapter(Tiny, MixedPlan, 3), directory);

        var narrower = new TransformerConfig(layerCount: 3, headCount: 2, channels: 4, contextLength: 6, vocabularySize: 11);
        var shape = Assert.ThrowsExactly<InvalidDataException>(() => LoraAdapterFiles.Load(directory, narrower));
        StringAssert.Contains(shape.Message, "'base_model.model.blocks.0.qkv.lora_A.weight'");

        var shallower = new TransformerConfig(layerCount: 2, headCount: 2, channels: 8, contextLength: 6, vocabularySize: 11);
        var layer = Assert.ThrowsExactly<InvalidDataException>(() => LoraAdapterFiles.Load(directory, shallower));
        StringAssert.Contains(layer.Message, "'base_model.model.blocks.2.");

        var weightsPath = Path.Combine(directory, LoraAdapterFiles.WeightsFileName);
        var renamed = SafeTensors.Read(weightsPath).Tensors
            .Select(tensor => SafeTensor.Create(tensor.Name.Replace("blocks.0.qkv", "transformer.h.0.attn.c_attn"), tensor.Shape, tensor.ToSingleArray())).ToArray();
        SafeTensors.Write(weightsPath, renamed);
        var name = Assert.ThrowsExactly<InvalidDataException>(() => LoraAdapterFiles.Load(directory, Tiny));
        StringAssert.Contains(name.Message, "'base_model.model.transformer.h.0.attn.c_attn.lora_A.weight'");
    }

    /// <summary>The tiny GPT of the fixture and its adapter (every factor seeded, so the merge is not trivial).</summary>
    private static (GptModel Model, LoraAdapter Adapter) FixtureModel()
    {
        var gpt = Gpt(seed: 21);
        var adapter = new LoraAdapter(Tiny, MixedPlan, seed: 22);
        Randomize(adapter, seed: 23, scale: 0.2f);
        return (gpt, adapter);
    }

    private static (GptModel Model, LoraModel Lora) LoadFixture()
    {
        var gpt = new GptModel(Tiny, Parallelism.Sequential);
        gpt.Parameters.LoadSafeTensors(Path.Combine(FixtureDirectory, "base.safetensors"));
        var lora = new LoraModel(gpt);
        var adapter = LoraAdapterFiles.Load(Path.Combine(FixtureDirectory, "adapter"), Tiny);
        adapter.Training = false;
        lora.Add("fixture", adapter);
        return (gpt, lora);
    }

    private static string TemporaryDirectory()
    {
        var directory = Path.Combine(Path.GetTempPath(), "pipelines-lora-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        return directory;
    }

    private static (int ExitCode, string Output) RunProcess(string fileName, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(fileName, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output);
    }
}
