using System.Text.Json;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Diagnostics;
using Pipelines.Components.Lora;
using Pipelines.Components.Models;

namespace Pipelines.Components.Tests.Diagnostics;

[TestClass]
public sealed class InflectionLayerFinderTests
{
    // Six layers. Gh rises going up, sharply above layers 1 and 4: d = log(Gh(l+1)/Gh(l)) = [ln 8, ln 1.25, ln 1.2, ln 10, ln 1.1].
    // Entropies: layers 1, 3, 4 are below the median (2.4), layer 0 is not.
    private static readonly LayerMetrics[] Metrics =
    [
        Layer(0, entropy: 3.0, gradient: 0.01),
        Layer(1, entropy: 1.0, gradient: 0.08),
        Layer(2, entropy: 2.8, gradient: 0.10),
        Layer(3, entropy: 2.0, gradient: 0.12),
        Layer(4, entropy: 1.5, gradient: 1.2),
        Layer(5, entropy: 2.9, gradient: 1.32),
    ];

    [TestMethod]
    public void TopCountTakesTheSteepestLowEntropyLayers()
    {
        var result = InflectionLayerFinder.Find(Metrics, new InflectionOptions { LayerCount = 2 });
        Assert.AreEqual(Math.Log(8), result.Slopes[0], 1e-12);
        Assert.AreEqual(2.4, result.EntropyMedian, 1e-12);
        // Layer 0 has the second-largest slope but high entropy; layers 3 (ln 10) and 1 (ln 1.25) qualify.
        CollectionAssert.AreEqual(new[] { 1, 3 }, result.InflectionLayers.ToArray());
        CollectionAssert.AreEqual(new[] { 1, 3 }, result.Plan.Layers.Select(entry => entry.Layer).ToArray());
    }

    [TestMethod]
    public void MeanPlusDeviationKeepsOnlyOutliersAndNeighboursWidenTheChoice()
    {
        var options = new InflectionOptions { Selection = InflectionSelection.AboveMeanPlusDeviation };
        var result = InflectionLayerFinder.Find(Metrics, options);
        CollectionAssert.AreEqual(new[] { 3 }, result.InflectionLayers.ToArray());
        var widened = InflectionLayerFinder.Find(Metrics, options with { IncludeNeighbours = true });
        CollectionAssert.AreEqual(new[] { 2, 3, 4 }, widened.Layers.ToArray());
    }

    [TestMethod]
    public void ThePlanCarriesTheOptionsAndRoundTripsThroughJson()
    {
        var options = new InflectionOptions { LayerCount = 1, Rank = 4, Alpha = 8, Dropout = 0.1, UseRsLora = true, Targets = [LoraProjection.Qkv, LoraProjection.Contract] };
        var plan = InflectionLayerFinder.Find(Metrics, options).Plan;
        var json = plan.ToJson();
        StringAssert.Contains(json, "\"qkv\"");
        StringAssert.Contains(json, "\"out\"");
        StringAssert.Contains(json, "\"use_rslora\": true");
        var replayed = LoraInjectionPlan.FromJson(json);
        Assert.AreEqual(json, replayed.ToJson());
        var entry = replayed.Layers.Single();
        Assert.AreEqual((3, 4, 8.0), (entry.Layer, entry.Rank, entry.Alpha));
        CollectionAssert.AreEqual(new[] { LoraProjection.Qkv, LoraProjection.Contract }, entry.Targets.ToArray());
    }

    [TestMethod]
    public void BadPlansNameTheOffendingValue()
    {
        var config = new TransformerConfig(layerCount: 3, headCount: 2, channels: 8, contextLength: 6, vocabularySize: 11);
        var missingLayer = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => LoraInjectionPlan.Uniform([3], 2, 4, [LoraProjection.Qkv]).Validate(config));
        Assert.AreEqual(3, missingLayer.ActualValue);
        Assert.AreEqual("Layer", missingLayer.ParamName);
        var zeroRank = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => LoraInjectionPlan.Uniform([1], 0, 4, [LoraProjection.Qkv]).Validate(config));
        Assert.AreEqual(("Rank", (object)0), (zeroRank.ParamName, zeroRank.ActualValue));
        var wideRank = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => LoraInjectionPlan.Uniform([1], 9, 4, [LoraProjection.Expand]).Validate(config));
        Assert.AreEqual(9, wideRank.ActualValue);
        StringAssert.Contains(wideRank.Message, "fc");
        var unknown = Assert.ThrowsExactly<JsonException>(() => LoraInjectionPlan.FromJson("""{"layers":[{"layer":0,"rank":2,"alpha":4,"targets":["gate"]}]}"""));
        StringAssert.Contains(unknown.Message, "'gate'");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new InflectionOptions { Rank = 0 });
        Assert.ThrowsExactly<ArgumentException>(() => InflectionLayerFinder.Find([Layer(0, 1, 0), Layer(1, 1, 1)], new InflectionOptions()));
    }

    private static LayerMetrics Layer(int layer, double entropy, double gradient) => new(layer, entropy, entropy / 2, gradient, gradient);
}
