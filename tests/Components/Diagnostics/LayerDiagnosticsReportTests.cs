using System.Xml.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Diagnostics;
using Pipelines.Components.Lora;
using Pipelines.Components.Optimization;

namespace Pipelines.Components.Tests.Diagnostics;

[TestClass]
public sealed class LayerDiagnosticsReportTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void DiagnoseChooseAdaptAndReport()
    {
        var batches = new[] { LayerDiagnosticsTests.GptBatch };
        var source = LayerDiagnosticsTests.RaisedGpt();
        var tuned = LayerDiagnosticsTests.RaisedGpt();
        var lora = new LoraModel(tuned);
        var adapter = lora.Add("tuned", LoraInjectionPlan.Uniform([1, 2], 2, 4, LoraProjections.All), seed: 1);
        var optimizer = new GradientTransformOptimizer(Optimizers.AdamW(2e-2, weightDecay: 0), adapter.Parameters);
        for (var step = 0; step < 10; step++)
        {
            adapter.Parameters.ZeroGradients();
            tuned.Forward(batches[0].Tokens, batches[0].Targets, batches[0].BatchSize, batches[0].TokenCount);
            tuned.Backward();
            optimizer.Step(adapter.Parameters);
        }

        lora.Merge();
        var metrics = LayerDiagnostics.Measure(source, tuned, batches, principalComponents: 4);
        Assert.AreEqual(0.0, metrics[0].DeltaCka!.Value, 1e-9, "layer 0 was not adapted");
        Assert.IsTrue(metrics[2].DeltaCka!.Value > 0, "an adapted layer drifts");
        var result = InflectionLayerFinder.Find(metrics, new InflectionOptions { LayerCount = 1, IncludeNeighbours = true, Rank = 2, Alpha = 4 });
        Assert.AreEqual(1, result.InflectionLayers.Count, "a 3-layer model has candidates below the median entropy");

        var directory = Path.Combine(TestContext.TestRunResultsDirectory ?? Path.GetTempPath(), "layer-diagnostics");
        Directory.CreateDirectory(directory);
        var planPath = Path.Combine(directory, "plan.json");
        result.Plan.Save(planPath);
        var csvPath = Path.Combine(directory, "layers.csv");
        LayerDiagnosticsReport.WriteCsv(csvPath, metrics, result);
        var (svg, png) = LayerDiagnosticsReport.WriteFigure(Path.Combine(directory, "layers"), metrics, result);

        var lines = File.ReadAllLines(csvPath);
        Assert.AreEqual(metrics.Count + 1, lines.Length);
        StringAssert.StartsWith(lines[0], "Layer,AttentionEntropy,NormalizedAttentionEntropy,ActivationGradientNorm,ParameterGradientNorm,Slope,Cka,DeltaCka,Inflection,Chosen");
        var inflection = result.InflectionLayers[0];
        StringAssert.EndsWith(lines[inflection + 1], "True,True");
        var document = XDocument.Load(svg);
        Assert.AreEqual("svg", document.Root!.Name.LocalName);
        StringAssert.Contains(File.ReadAllText(svg), $"inflection layer {inflection}");
        CollectionAssert.AreEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(png)[..4]);

        // The plan replays: read back, build the adapter on the source model, which starts unchanged.
        var replayed = LoraInjectionPlan.Load(planPath);
        CollectionAssert.AreEqual(result.Layers.ToArray(), replayed.Layers.Select(entry => entry.Layer).ToArray());
        source.Forward(batches[0].Tokens, batches[0].Targets, batches[0].BatchSize, batches[0].TokenCount);
        var before = source.Logits.ToArray();
        new LoraModel(source).Add("replayed", replayed, seed: 2);
        source.Forward(batches[0].Tokens, batches[0].Targets, batches[0].BatchSize, batches[0].TokenCount);
        CollectionAssert.AreEqual(before, source.Logits.ToArray());
        TestContext.WriteLine($"Report written to {directory}");
    }
}
