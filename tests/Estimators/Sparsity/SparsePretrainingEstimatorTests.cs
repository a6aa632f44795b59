using System.IO.Compression;
using Microsoft.ML;
using Microsoft.ML.Data;
using Pipelines.Components.Serialization;
using Pipelines.Components.Sparsity;
using Pipelines.Estimators.Tests.MachineLearning;
using Pipelines.Estimators.Tests.Pretraining;
using Pipelines.Pretraining;
using Pipelines.Sparsity;

namespace Pipelines.Estimators.Tests.Sparsity;

[TestClass]
public sealed class SparsePretrainingEstimatorTests
{
    private const int Steps = 40;
    private const double FinalSparsity = 0.6;

    private static readonly Lazy<SparsePretrainingTransformer> SharedModel = new(() => Train(Options()).Model);

    private static SparsePretrainingOptions Options() =>
        new(PretrainingFixtures.TinyOptions() with { Steps = Steps, EvaluationInterval = 10 }) { FinalSparsity = FinalSparsity, PruningInterval = 2 };

    private static (SparsePretrainingTransformer Model, IDataView Validation) Train(SparsePretrainingOptions options,
        IProgress<SparseTrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var context = new MLContext(seed: 1);
        var train = PretrainingFixtures.Tokenizer.Transform(PretrainingFixtures.Training(context));
        var validation = PretrainingFixtures.Tokenizer.Transform(PretrainingFixtures.Validation(context));
        var run = options with
        {
            Pretraining = options.Pretraining with { ValidationSet = validation, CancellationToken = cancellationToken },
            Progress = progress,
        };
        return (context.Sparsity().SparsePretraining(run).Fit(train), validation);
    }

    [TestMethod]
    public void FitPrunesEveryLinearWeightToTheFinalSparsityAndKeepsPrunedWeightsZero()
    {
        var model = SharedModel.Value;
        var sparsity = model.Sparsity;
        var prunableLayers = model.Layers.Where(layer => layer.IsPrunable).ToArray();
        Assert.HasCount(4, prunableLayers, "qkv, proj, fc and out of the one block");
        Assert.IsTrue(prunableLayers.All(layer => layer.Role == Components.Tensors.ParameterRole.LinearWeight));
        foreach (var layer in prunableLayers) Assert.AreEqual(FinalSparsity, layer.Sparsity, 0.5 / layer.ParameterCount + 1e-12, layer.Name);
        Assert.IsTrue(model.Layers.Where(layer => !layer.IsPrunable).All(layer => layer.Sparsity == 0), "embeddings, norms and biases are never pruned");

        var arena = model.LanguageModel.CreateModel().Parameters;
        var pruned = 0;
        foreach (var (name, kept) in model.MaskTensors())
        {
            var values = arena.ValuesOf(arena[name[PruningMask.TensorPrefix.Length..]]);
            for (var index = 0; index < kept.Length; index++)
            {
                if (kept[index] != 0f) continue;
                pruned++;
                Assert.AreEqual(0f, values[index], $"{name}[{index}]");
                Assert.IsFalse(model.IsKept(name[PruningMask.TensorPrefix.Length..], index));
            }
        }

        Assert.AreEqual(sparsity.ParameterCount - sparsity.FinalNonZeroCount, pruned);
        Assert.AreEqual(FinalSparsity, sparsity.TargetFinalSparsity);
        Assert.AreEqual(arena.ParameterCount, sparsity.ParameterCount);
        Assert.HasCount(Steps, model.NonZeroCounts);
        Assert.AreEqual(model.NonZeroCounts.Average(count => (double)count), sparsity.AverageParameterCount, 1e-9);
        Assert.IsTrue(sparsity.FinalNonZeroCount < sparsity.AverageParameterCount && sparsity.AverageParameterCount < sparsity.ParameterCount);
        Assert.AreEqual(sparsity.ParameterCount, model.NonZeroCounts[9], "nothing is pruned before 25% of the run");
        Assert.AreEqual("Cubic 25%-75%", sparsity.Schedule);
        Assert.AreEqual(10L, model.Events[0].Step);
        Assert.AreEqual(30L, model.Events[^1].Step);
        Assert.AreEqual(Steps * 8L * 32, sparsity.Tokens);
        Assert.IsTrue(model.IsKept("wte.weight", 0));
        StringAssert.Contains(model.FormatReport(), "blocks.0.qkv.weight");
        StringAssert.Contains(model.FormatReport(), "Nbar");
    }

    [TestMethod]
    public void TransformScoresWithTheSparseWeights()
    {
        var model = SharedModel.Value;
        var validation = PretrainingFixtures.Tokenizer.Transform(PretrainingFixtures.Validation(new MLContext(seed: 1)));
        var losses = PretrainingFixtures.ReadSingles(model.Transform(validation), "Loss");
        CollectionAssert.AreEqual(PretrainingFixtures.ReadSingles(model.LanguageModel.Transform(validation), "Loss"), losses);
        Assert.IsTrue(losses.All(float.IsFinite));
        Assert.IsTrue(model.LanguageModel.Evaluate(validation).Loss < Math.Log(PretrainingFixtures.VocabularySize), "the sparse model learned something");
    }

    [TestMethod]
    public void SavedModelKeepsItsMasksBesideTheWeights()
    {
        var model = SharedModel.Value;
        var context = new MLContext(seed: 1);
        var validation = PretrainingFixtures.Tokenizer.Transform(PretrainingFixtures.Validation(context));
        using var file = new MemoryStream();
        context.Model.Save(model, validation.Schema, file);

        file.Position = 0;
        using (var archive = new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: true))
        {
            using var entry = archive.Entries.Single(candidate => candidate.Name == "weights.safetensors").Open();
            using var copy = new MemoryStream();
            entry.CopyTo(copy);
            copy.Position = 0;
            var tensors = SafeTensors.Read(copy);
            Assert.IsTrue(tensors.Contains("blocks.0.qkv.weight") && tensors.Contains("mask.blocks.0.qkv.weight"));
            Assert.IsFalse(tensors.Contains("mask.wte.weight"), "only prunable parameters carry masks");
        }

        file.Position = 0;
        var loaded = (SparsePretrainingTransformer)new MLContext(seed: 2).Model.Load(file, out _);
        Assert.IsTrue(model.LanguageModel.Weights.SequenceEqual(loaded.LanguageModel.Weights));
        var (savedMasks, loadedMasks) = (model.MaskTensors(), loaded.MaskTensors());
        CollectionAssert.AreEquivalent(savedMasks.Keys.ToArray(), loadedMasks.Keys.ToArray());
        foreach (var (name, kept) in savedMasks) CollectionAssert.AreEqual(kept, loadedMasks[name], name);
        Assert.AreEqual(model.Sparsity, loaded.Sparsity);
        CollectionAssert.AreEqual(model.NonZeroCounts.ToArray(), loaded.NonZeroCounts.ToArray());
        CollectionAssert.AreEqual(model.Events.ToArray(), loaded.Events.ToArray());
        CollectionAssert.AreEqual(model.Layers.ToArray(), loaded.Layers.ToArray());
        CollectionAssert.AreEqual(model.LanguageModel.TrainingHistory.ToArray(), loaded.LanguageModel.TrainingHistory.ToArray());
        CollectionAssert.AreEqual(PretrainingFixtures.ReadSingles(model.Transform(validation), "Loss"), PretrainingFixtures.ReadSingles(loaded.Transform(validation), "Loss"));
        Assert.AreEqual(model.FormatReport(), loaded.FormatReport());
    }

    [TestMethod]
    public void ASavedModelWithALivePrunedWeightOrABadMaskIsRefused()
    {
        var writer = new MemoryModelWriter();
        SharedModel.Value.Save(writer);
        var tensors = SafeTensors.Read(new MemoryStream(writer.Entries["weights.safetensors"]));
        var mask = tensors["mask.blocks.0.fc.weight"].ToSingleArray();
        var prunedIndex = Array.IndexOf(mask, 0f);
        Assert.IsGreaterThanOrEqualTo(0, prunedIndex);

        var weights = writer.Entries["weights.safetensors"];
        var revived = MemoryModelWriter.EditTensor(weights, "blocks.0.fc.weight", values => values[prunedIndex] = 0.25f);
        var error = Assert.ThrowsExactly<InvalidDataException>(() => SparsePretrainingTransformer.Load(writer.ToReader("weights.safetensors", revived)));
        StringAssert.Contains(error.Message, "blocks.0.fc.weight");

        var halfKept = MemoryModelWriter.EditTensor(weights, "mask.blocks.0.fc.weight", values => values[prunedIndex] = 0.5f);
        Assert.ThrowsExactly<InvalidDataException>(() => SparsePretrainingTransformer.Load(writer.ToReader("weights.safetensors", halfKept)));
        var notFinite = MemoryModelWriter.EditTensor(weights, "blocks.0.qkv.weight", values => values[0] = float.NaN);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => SparsePretrainingTransformer.Load(writer.ToReader("weights.safetensors", notFinite))).Message,
            "'blocks.0.qkv.weight'");
        Assert.IsInstanceOfType<SparsePretrainingTransformer>(SparsePretrainingTransformer.Load(writer.ToReader()));
    }

    [TestMethod]
    public void TargetNbarSetsTheFinalSparsityAndUnreachableTargetsAreNamed()
    {
        var dense = SharedModel.Value.Sparsity.ParameterCount;
        var target = 0.8 * dense;
        var reports = new List<SparseTrainingProgress>();
        var (model, _) = Train(Options() with { TargetAverageParameterCount = target }, new Recorder(reports.Add));
        Assert.AreEqual(target, model.Sparsity.AverageParameterCount, 0.5 * 4, "Nbar within rounding of one parameter per prunable layer");
        Assert.IsTrue(model.Sparsity.FinalNonZeroCount < target);
        Assert.HasCount(Steps, reports);
        Assert.AreEqual(model.Sparsity.AverageParameterCount, reports[^1].AverageParameterCount, 1e-9);
        Assert.AreEqual(model.Sparsity.FinalNonZeroCount, reports[^1].NonZeroCount);
        Assert.AreEqual(model.Sparsity.PrunableSparsity, reports[^1].PrunableSparsity, 1e-12);
        Assert.AreEqual(0, reports[5].OverallSparsity);
        Assert.AreEqual((long)Steps, reports[^1].Training.Step);

        var unreachable = Options() with { TargetAverageParameterCount = 0.1 * dense, StartFraction = 0.5, EndFraction = 1 };
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Train(unreachable));
        Assert.AreEqual(nameof(SparsePretrainingOptions.TargetAverageParameterCount), error.ParamName);
    }

    [TestMethod]
    public void ResumingAnInterruptedSparseRunIsBitIdentical()
    {
        var checkpoint = Path.Combine(Path.GetTempPath(), $"pipelines-sparse-{Guid.NewGuid():N}.ckpt");
        try
        {
            var straight = SharedModel.Value;
            using var cancellation = new CancellationTokenSource();
            var interrupted = Options() with { Pretraining = Options().Pretraining with { CheckpointPath = checkpoint, CheckpointInterval = 7 } };
            Assert.ThrowsExactly<OperationCanceledException>(() => Train(interrupted, new Recorder(report =>
            {
                if (report.Training.Step == 17) cancellation.Cancel();
            }), cancellation.Token));
            var resumed = Train(interrupted with { Pretraining = interrupted.Pretraining with { ResumeFrom = checkpoint } }).Model;

            Assert.IsTrue(straight.LanguageModel.Weights.SequenceEqual(resumed.LanguageModel.Weights), "weights");
            foreach (var (name, kept) in straight.MaskTensors()) CollectionAssert.AreEqual(kept, resumed.MaskTensors()[name], name);
            CollectionAssert.AreEqual(straight.NonZeroCounts.ToArray(), resumed.NonZeroCounts.ToArray());
            CollectionAssert.AreEqual(straight.Events.ToArray(), resumed.Events.ToArray());
            Assert.AreEqual(straight.Sparsity, resumed.Sparsity);
            CollectionAssert.AreEqual(straight.LanguageModel.TrainingHistory.ToArray(), resumed.LanguageModel.TrainingHistory.ToArray());
        }
        finally
        {
            File.Delete(checkpoint);
        }
    }

    [TestMethod]
    public void OptionsAreCheckedAndTheCatalogSetsTheColumn()
    {
        Assert.AreEqual("FinalSparsity", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new SparsePretrainingOptions { FinalSparsity = 1 }).ParamName);
        Assert.AreEqual("StartFraction", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new SparsePretrainingOptions { StartFraction = -0.1 }).ParamName);
        Assert.AreEqual("PruningInterval", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new SparsePretrainingOptions { PruningInterval = 0 }).ParamName);
        Assert.AreEqual("TargetAverageParameterCount",
            Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new SparsePretrainingOptions { TargetAverageParameterCount = double.NaN }).ParamName);
        Assert.AreEqual("Schedule", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new SparsePretrainingOptions { Schedule = (SparsityScheduleKind)9 }).ParamName);
        var catalog = new MLContext(seed: 1).Sparsity();
        Assert.AreEqual("EndFraction", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            catalog.SparsePretraining(new SparsePretrainingOptions { StartFraction = 0.6, EndFraction = 0.4 })).ParamName);
        Assert.AreEqual("InitialSparsity", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            catalog.SparsePretraining(new SparsePretrainingOptions { InitialSparsity = 0.7, FinalSparsity = 0.5 })).ParamName);

        var estimator = catalog.SparsePretraining("Ids", finalSparsity: 0.3);
        Assert.AreEqual("Ids", estimator.Options.Pretraining.TokensColumnName);
        Assert.AreEqual(0.3, estimator.Options.FinalSparsity);
        var schema = estimator.GetOutputSchema(new SchemaShape([SchemaShapes.Column("Ids", SchemaShape.Column.VectorKind.VariableVector, NumberDataViewType.UInt32, isKey: true)]));
        CollectionAssert.IsSubsetOf(new[] { "Loss", "Perplexity" }, schema.Select(column => column.Name).ToArray());
    }

    [TestMethod]
    public void InAChainTheSparseModelLoadsInAFreshProcessAsItsOwnType()
    {
        var context = new MLContext(seed: 1);
        var train = PretrainingFixtures.Training(context);
        var pretraining = PretrainingFixtures.TinyOptions() with { Steps = 8, ValidationSet = PretrainingFixtures.Validation(context), EvaluationInterval = 4 };
        var chain = context.Transforms.Text.TrainBytePairEncoding(vocabularySize: 300)
            .Append(context.Sparsity().SparsePretraining(new SparsePretrainingOptions(pretraining) { FinalSparsity = 0.5, PruningInterval = 1 }))
            .Fit(train);
        var path = Path.Combine(Path.GetTempPath(), $"pipelines-sparse-{Guid.NewGuid():N}.zip");
        try
        {
            context.Model.Save(chain, train.Schema, path);
            string[] texts = ["The jury said it did find that many of the city's"];
            var losses = PretrainingFixtures.ReadSingles(chain.Transform(context.Data.LoadFromEnumerable(texts.Select(text => new DocumentRow { Text = text }))), "Loss");

            var printed = ModelProbe.Run(path, texts);

            CollectionAssert.Contains(printed.Where(line => line[0] == "transformer").Select(line => line[1]).ToArray(), nameof(SparsePretrainingTransformer));
            Assert.AreEqual(losses[0].ToString("R", System.Globalization.CultureInfo.InvariantCulture), printed.Single(line => line[0] == "0" && line[1] == "Loss")[2]);
            Assert.IsNotNull(chain.Evaluate(PretrainingFixtures.Validation(context)).BitsPerByte, "the chain helpers see the sparse model's language model");
            Assert.AreEqual(0.5, chain.LastTransformer.Sparsity.TargetFinalSparsity);
        }
        finally
        {
            File.Delete(path);
            File.Delete(Path.ChangeExtension(path, ".texts.txt"));
        }
    }

    /// <summary>Reports on the training thread.</summary>
    private sealed class Recorder(Action<SparseTrainingProgress> report) : IProgress<SparseTrainingProgress>
    {
        public void Report(SparseTrainingProgress value) => report(value);
    }
}
