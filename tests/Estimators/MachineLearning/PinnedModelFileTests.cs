using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Pipelines.FineTuning;
using Pipelines.Text;
using Pipelines.Tests.Support;

namespace Pipelines.Estimators.Tests.MachineLearning;

/// <summary>
/// A model file saved by the pinned ML.NET (6.0.0) and committed, loaded by whatever ML.NET this build uses: if an
/// update changes how ML.NET reads our transformers' parts, this fails loudly. The file and its expected scores were
/// made by <c>dotnet tests/ModelLoadProbe/bin/Release/net10.0/ModelLoadProbe.dll --make-fixture tests/Estimators/Fixtures</c>
/// (tests/ModelLoadProbe/FixtureMaker.cs).
/// </summary>
[TestClass]
public sealed class PinnedModelFileTests
{
    public sealed class TextRow
    {
        public string Text { get; set; } = "";

        public string Label { get; set; } = "";
    }

    public sealed class ScoredRow
    {
        public string PredictedLabel { get; set; } = "";

        public float[] Score { get; set; } = [];
    }

    [TestMethod]
    public void TheCommittedChainLoadsAsOurTypesAndScoresExactlyAsWhenSaved()
    {
        var fixtures = RepositoryRoot.Combine("tests", "Estimators", "Fixtures");
        var expected = File.ReadAllLines(Path.Combine(fixtures, "chain-mlnet-6.0.0.expected.tsv")).Select(line => line.Split('\t')).ToArray();
        var context = new MLContext(seed: 9);

        var model = context.Model.Load(Path.Combine(fixtures, "chain-mlnet-6.0.0.zip"), out var schema);

        var transformers = ((IEnumerable<ITransformer>)model).ToArray();
        Assert.IsInstanceOfType<BytePairEncodingTransformer>(transformers[1]);
        Assert.IsInstanceOfType<TextClassificationTransformer>(transformers[2]);
        Assert.IsNotNull(schema.GetColumnOrNull("Text"));
        var texts = context.Data.LoadFromEnumerable(expected.Select(fields => new TextRow { Text = fields[0] }));
        var scored = context.Data.CreateEnumerable<ScoredRow>(model.Transform(texts), reuseRowObject: false).ToArray();
        Assert.HasCount(expected.Length, scored);
        for (var row = 0; row < expected.Length; row++)
        {
            Assert.AreEqual(expected[row][1], scored[row].PredictedLabel, $"row {row}");
            Assert.AreEqual(expected[row][2], string.Join(" ", scored[row].Score.Select(value => value.ToString("R", CultureInfo.InvariantCulture))), $"row {row}: scores bit for bit");
        }
    }
}
