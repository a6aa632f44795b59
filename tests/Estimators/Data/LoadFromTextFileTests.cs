using Pipelines.Data;

namespace Pipelines.Estimators.Tests.Data;

[TestClass]
public sealed class LoadFromTextFileTests
{
    public sealed class Review
    {
        [LoadColumn(0)]
        public string Text { get; set; } = "";

        [LoadColumn(1)]
        public float Score { get; set; }

        [LoadColumn(2), KeyType(3)]
        public uint Label { get; set; }

        [LoadColumn(3, 5)]
        public int[] Counts { get; set; } = [];

        [LoadColumn(6)]
        public bool Verified { get; set; }
    }

    public sealed class Unmarked
    {
        public float Score { get; set; }
    }

    private static string WriteTemporary(string content)
    {
        var path = Path.Combine(Path.GetTempPath(), $"pipelines-{Guid.NewGuid():N}.tsv");
        File.WriteAllText(path, content);
        return path;
    }

    [TestMethod]
    public void ReadsTsvWithHeaderIntoTypedColumns()
    {
        var path = WriteTemporary("text\tscore\tlabel\tc1\tc2\tc3\tverified\ngood \"film\"\t4.5\t3\t1\t2\t3\ttrue\nbad\t\t1\t0\t0\t7\t0\n");
        try
        {
            var context = new PipelineContext(1);
            var data = context.Data.LoadFromTextFile<Review>(path, hasHeader: true);

            Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Int32, 3), data.Schema["Counts"].Type);
            Assert.AreEqual(new KeyDataViewType(3), data.Schema["Label"].Type);
            var rows = context.Data.CreateEnumerable<Review>(data, reuseRowObject: false).ToList();
            Assert.HasCount(2, rows);
            Assert.AreEqual("good \"film\"", rows[0].Text);
            Assert.AreEqual(4.5f, rows[0].Score);
            Assert.AreEqual(3u, rows[0].Label);
            CollectionAssert.AreEqual(new[] { 1, 2, 3 }, rows[0].Counts);
            Assert.IsTrue(rows[0].Verified);
            Assert.IsTrue(float.IsNaN(rows[1].Score), "an empty float field is a missing value");
            CollectionAssert.AreEqual(new[] { 0, 0, 7 }, rows[1].Counts);
            Assert.IsFalse(rows[1].Verified);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void QuotedFieldsWhenAllowed()
    {
        var path = WriteTemporary("\"a,b\",1,2,0,0,0,false\n");
        try
        {
            var context = new PipelineContext(1);
            var data = context.Data.LoadFromTextFile<Review>(path, separatorChar: ',', allowQuoting: true);
            Assert.AreEqual("a,b", context.Data.CreateEnumerable<Review>(data, reuseRowObject: false).Single().Text);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void BadFieldThrowsNamingLineAndField()
    {
        var path = WriteTemporary("x\t1\t1\t1\t1\t1\ttrue\ny\tabc\t1\t1\t1\t1\ttrue\n");
        try
        {
            var exception = Assert.ThrowsExactly<InvalidDataException>(() => new PipelineContext(1).Data.LoadFromTextFile<Review>(path));
            StringAssert.Contains(exception.Message, "line 2");
            StringAssert.Contains(exception.Message, "field 1");
            StringAssert.Contains(exception.Message, "'abc'");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void ShortLineThrows()
    {
        var path = WriteTemporary("x\t1\t1\n");
        try
        {
            var exception = Assert.ThrowsExactly<InvalidDataException>(() => new PipelineContext(1).Data.LoadFromTextFile<Review>(path));
            StringAssert.Contains(exception.Message, "3 fields");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void MemberWithoutLoadColumnThrows()
    {
        var path = WriteTemporary("1\n");
        try
        {
            var exception = Assert.ThrowsExactly<InvalidOperationException>(() => new PipelineContext(1).Data.LoadFromTextFile<Unmarked>(path));
            StringAssert.Contains(exception.Message, "Score");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
