using System.Globalization;
using System.Text;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Reporting;

namespace Pipelines.Estimators.Tests.Reporting;

public enum Phase
{
    Warmup,
    Training,
}

public sealed record StepMetrics(
    int Step, long Tokens, double Loss, float LearningRate, double? ValidationLoss, bool Diverged,
    Phase Phase, string Note, DateTime Time, DateTimeOffset Local, TimeSpan Elapsed, decimal Cost, Guid RunId)
{
    /// <summary>A computed column: written, not read back.</summary>
    public double Perplexity => Math.Exp(Loss);
}

/// <summary>A non-positional record: rebuilt through init-only setters.</summary>
public sealed record Summary
{
    public string Name { get; init; } = "";

    public double BestLoss { get; init; }

    public int? BestStep { get; init; }
}

public sealed record Narrow(int Step, double Loss);

public sealed record WithUnsupported(int Step, int[] Histogram);

[TestClass]
public sealed class MetricsCsvTests
{
    private static readonly DateTime Start = new(2025, 3, 14, 15, 9, 26, 535, DateTimeKind.Utc);

    private static string TemporaryPath() => Path.Combine(Path.GetTempPath(), $"metrics-{Guid.NewGuid():N}.csv");

    private static StepMetrics[] Sample() =>
    [
        new(1, 1024, 0.1 + 0.2, 3e-4f, null, false, Phase.Warmup, "plain", Start.AddTicks(1), new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.FromHours(-5)), TimeSpan.FromMilliseconds(1234.5), 0.10m, Guid.NewGuid()),
        new(2, 2048, double.NaN, float.Epsilon, double.PositiveInfinity, true, Phase.Training, "comma, \"quote\"\nnew line, é, 日本, =1+1", Start, DateTimeOffset.MinValue, TimeSpan.Zero, -1m, Guid.Empty),
        new(3, long.MaxValue, -0.0, -1.5f, 1e-300, false, Phase.Training, "", DateTime.MaxValue, DateTimeOffset.MaxValue, TimeSpan.MaxValue, decimal.MaxValue, Guid.NewGuid()),
    ];

    private static void AssertSameBits(StepMetrics expected, StepMetrics actual)
    {
        Assert.AreEqual(BitConverter.DoubleToInt64Bits(expected.Loss), BitConverter.DoubleToInt64Bits(actual.Loss), $"Loss of step {expected.Step}");
        Assert.AreEqual(BitConverter.SingleToInt32Bits(expected.LearningRate), BitConverter.SingleToInt32Bits(actual.LearningRate));
        Assert.AreEqual(expected.Time.Kind, actual.Time.Kind);
        // Records compare NaN fields as equal (EqualityComparer<double>), so the rest is one comparison.
        Assert.AreEqual(expected, actual);
    }

    [TestMethod]
    public void RoundTripsEveryValueExactly()
    {
        var path = TemporaryPath();
        try
        {
            var records = Sample();
            MetricsCsv.Write(path, records);
            var read = MetricsCsv.Read<StepMetrics>(path);
            Assert.HasCount(records.Length, read);
            for (var index = 0; index < records.Length; index++) AssertSameBits(records[index], read[index]);
            Assert.IsFalse(File.Exists(path + ".tmp"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void WritesInvariantTextWhateverTheCurrentCulture()
    {
        var previous = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = new CultureInfo("de-DE");
            using var stream = new MemoryStream();
            MetricsCsv.Write(stream, [new Narrow(7, 0.5), new Narrow(8, double.NegativeInfinity)]);
            Assert.AreEqual("Step,Loss\n7,0.5\n8,-Infinity\n", Encoding.UTF8.GetString(stream.ToArray()));
            stream.Position = 0;
            CollectionAssert.AreEqual(new[] { new Narrow(7, 0.5), new Narrow(8, double.NegativeInfinity) }, MetricsCsv.Read<Narrow>(stream).ToArray());
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [TestMethod]
    public void WritesComputedColumnsAndReadsInitOnlyRecords()
    {
        using var stream = new MemoryStream();
        MetricsCsv.Write(stream, [new Narrow(1, 2.0)]);
        using var full = new MemoryStream();
        MetricsCsv.Write(full, Sample().Take(1));
        StringAssert.StartsWith(Encoding.UTF8.GetString(full.ToArray()), "Step,Tokens,Loss,LearningRate,ValidationLoss,Diverged,Phase,Note,Time,Local,Elapsed,Cost,RunId,Perplexity\n");

        var summaries = new[] { new Summary { Name = "run a", BestLoss = 1.25, BestStep = 40 }, new Summary { Name = "run b", BestLoss = 3 } };
        using var summaryStream = new MemoryStream();
        MetricsCsv.Write(summaryStream, summaries);
        summaryStream.Position = 0;
        CollectionAssert.AreEqual(summaries, MetricsCsv.Read<Summary>(summaryStream).ToArray());
    }

    [TestMethod]
    public void AppendCreatesTheFileThenAddsRowsUnderOneHeader()
    {
        var path = TemporaryPath();
        try
        {
            MetricsCsv.Append(path, [new Narrow(1, 3.0)]);
            MetricsCsv.Append(path, Array.Empty<Narrow>());
            MetricsCsv.Append(path, [new Narrow(2, 2.5), new Narrow(3, 2.25)]);
            Assert.AreEqual("Step,Loss\n1,3\n2,2.5\n3,2.25\n", File.ReadAllText(path));
            CollectionAssert.AreEqual(new[] { new Narrow(1, 3.0), new Narrow(2, 2.5), new Narrow(3, 2.25) }, MetricsCsv.Read<Narrow>(path).ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void AppendRepairsAMissingFinalNewLine()
    {
        var path = TemporaryPath();
        try
        {
            File.WriteAllText(path, "Step,Loss\n1,3");
            MetricsCsv.Append(path, [new Narrow(2, 2.0)]);
            CollectionAssert.AreEqual(new[] { new Narrow(1, 3.0), new Narrow(2, 2.0) }, MetricsCsv.Read<Narrow>(path).ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void AppendRefusesAFileWithOtherColumnsAndLeavesItAlone()
    {
        var path = TemporaryPath();
        try
        {
            MetricsCsv.Write(path, [new Summary { Name = "x" }]);
            var before = File.ReadAllText(path);
            var exception = Assert.ThrowsExactly<InvalidDataException>(() => MetricsCsv.Append(path, [new Narrow(1, 1.0)]));
            StringAssert.Contains(exception.Message, "[Name, BestLoss, BestStep]");
            Assert.AreEqual(before, File.ReadAllText(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void ConcurrentAppendsLoseNothing()
    {
        var path = TemporaryPath();
        try
        {
            Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, writer =>
            {
                for (var batch = 0; batch < 10; batch++)
                    MetricsCsv.Append(path, [new Narrow(writer * 1000 + batch * 2, writer), new Narrow(writer * 1000 + batch * 2 + 1, writer)]);
            });
            var read = MetricsCsv.Read<Narrow>(path);
            Assert.HasCount(160, read);
            Assert.HasCount(160, read.Select(record => record.Step).Distinct().ToArray());
            foreach (var writer in Enumerable.Range(0, 8))
            {
                var steps = read.Where(record => record.Loss == writer).Select(record => record.Step).ToArray();
                CollectionAssert.AreEqual(Enumerable.Range(writer * 1000, 20).ToArray(), steps, $"writer {writer} rows in order");
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void ReadNamesTheBadRowAndColumn()
    {
        using var bad = new MemoryStream(Encoding.UTF8.GetBytes("Step,Loss\n1,0.5\n2,abc\n"));
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => MetricsCsv.Read<Narrow>(bad)).Message, "Row 2, column 'Loss': 'abc'");
        using var missing = new MemoryStream(Encoding.UTF8.GetBytes("Step\n1\n"));
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => MetricsCsv.Read<Narrow>(missing)).Message, "no column 'Loss'");
        using var reordered = new MemoryStream(Encoding.UTF8.GetBytes("loss,extra,STEP\n0.5,x,4\n"));
        CollectionAssert.AreEqual(new[] { new Narrow(4, 0.5) }, MetricsCsv.Read<Narrow>(reordered).ToArray());
    }

    [TestMethod]
    public void RejectsTypesWithoutACsvForm()
    {
        using var stream = new MemoryStream();
        Assert.ThrowsExactly<NotSupportedException>(() => MetricsCsv.Write(stream, [new WithUnsupported(1, [2])]));
        Assert.ThrowsExactly<ArgumentException>(() => MetricsCsv.Append(" ", [new Narrow(1, 1)]));
    }
}
