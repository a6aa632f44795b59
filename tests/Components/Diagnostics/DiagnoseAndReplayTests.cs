using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Diagnostics;
using Pipelines.Components.Lora;
using Pipelines.Components.Optimization;

namespace Pipelines.Components.Tests.Diagnostics;

/// <summary>Diagnose, choose, adapt, and replay the plan; the CSV and figure report lives in samples/LayerDiagnostics.</summary>
[TestClass]
public sealed class DiagnoseAndReplayTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void DiagnoseChooseAdaptAndReplayThePlan()
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

        var planPath = Path.Combine(TestContext.TestRunResultsDirectory ?? Path.GetTempPath(), $"plan-{Guid.NewGuid():N}.json");
        result.Plan.Save(planPath);

        // The plan replays: read back, build the adapter on the source model, which starts unchanged.
        var replayed = LoraInjectionPlan.Load(planPath);
        CollectionAssert.AreEqual(result.Layers.ToArray(), replayed.Layers.Select(entry => entry.Layer).ToArray());
        source.Forward(batches[0].Tokens, batches[0].Targets, batches[0].BatchSize, batches[0].TokenCount);
        var before = source.Logits.ToArray();
        new LoraModel(source).Add("replayed", replayed, seed: 2);
        source.Forward(batches[0].Tokens, batches[0].Targets, batches[0].BatchSize, batches[0].TokenCount);
        CollectionAssert.AreEqual(before, source.Logits.ToArray());
        File.Delete(planPath);
    }
}
