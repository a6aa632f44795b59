using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Text;

namespace Pipelines.Components.Tests.Text;

[TestClass]
public sealed class PreTokenizerTests
{
    // Expected chunks were checked against GPT-2's regular expression (Python 'regex' module).
    [TestMethod]
    [DataRow("Hello world", new[] { "Hello", " world" })]
    [DataRow("It's 2024!", new[] { "It", "'s", " 2024", "!" })]
    [DataRow("they'll've", new[] { "they", "'ll", "'ve" })]
    [DataRow("a  b", new[] { "a", " ", " b" })]
    [DataRow("x\n\ny", new[] { "x", "\n", "\n", "y" })]
    [DataRow("end   ", new[] { "end", "   " })]
    [DataRow("a\t\tb", new[] { "a", "\t", "\t", "b" })]
    [DataRow(" ...wait", new[] { " ...", "wait" })]
    [DataRow("x=1+2", new[] { "x", "=", "1", "+", "2" })]
    [DataRow("日本語 text", new[] { "日本語", " text" })]
    [DataRow("a😀😀b", new[] { "a", "😀😀", "b" })]
    [DataRow("café naïve", new[] { "café", " naïve" })]
    public void SplitsLikeGpt2(string text, string[] expected) =>
        CollectionAssert.AreEqual(expected, PreTokenizer.Split(text).ToArray());

    [TestMethod]
    public void CombiningMarksStayInTheirWord() =>
        CollectionAssert.AreEqual(new[] { "cafe\u0301", " ok" }, PreTokenizer.Split("cafe\u0301 ok").ToArray());

    [TestMethod]
    public void LongRunsAreCutAtTheMaximumLength()
    {
        var chunks = PreTokenizer.Split(new string('a', 1000));
        CollectionAssert.AreEqual(new[] { 256, 256, 256, 232 }, chunks.Select(chunk => chunk.Length).ToArray());
    }

    [TestMethod]
    public void CutsNeverSplitASurrogatePair()
    {
        var text = "!" + string.Concat(Enumerable.Repeat("😀", 300));
        var chunks = PreTokenizer.Split(text);
        Assert.AreEqual(text, string.Concat(chunks));
        Assert.IsTrue(chunks.All(chunk => chunk.Length <= PreTokenizer.MaximumChunkLength));
        Assert.IsTrue(chunks.All(chunk => !char.IsLowSurrogate(chunk[0]) && !char.IsHighSurrogate(chunk[^1])));
    }

    [TestMethod]
    public void ChunksCoverTheTextExactly()
    {
        var text = EnglishLikeText.Generate(20_000, seed: 3) + "\r\n \t\u00a0 'tis 'RE x\ud800y \udc00";
        var position = 0;
        PreTokenizer.Split(text.AsSpan(), (start, length) =>
        {
            Assert.AreEqual(position, start);
            Assert.IsGreaterThan(0, length);
            position += length;
        });
        Assert.AreEqual(text.Length, position);
    }

    [TestMethod]
    public void EmptyTextHasNoChunks() => Assert.IsEmpty(PreTokenizer.Split(""));

    [TestMethod]
    public void TheAdapterCutsWhereThePreTokenizerCuts()
    {
        var text = EnglishLikeText.Generate(20_000, seed: 8) + "\r\n \t\u00a0 'tis 😀😀 x\ud800y " + new string('a', 600);
        var pieces = new PreTokenizerAdapter([]).PreTokenize(text).Select(piece => text.Substring(piece.Offset, piece.Length));
        CollectionAssert.AreEqual(PreTokenizer.Split(text).ToArray(), pieces.ToArray());
        CollectionAssert.AreEqual(pieces.ToArray(), new PreTokenizerAdapter([]).PreTokenize(text.AsSpan()).Select(piece => text.Substring(piece.Offset, piece.Length)).ToArray());
    }

    [TestMethod]
    public void TheAdapterCutsOutSpecialTokensWhole()
    {
        const string text = "one<|a|><|ab|> two<|a|>";
        var pieces = new PreTokenizerAdapter(["<|a|>", "<|ab|>"]).PreTokenize(text).Select(piece => text.Substring(piece.Offset, piece.Length));
        CollectionAssert.AreEqual(new[] { "one", "<|a|>", "<|ab|>", " two", "<|a|>" }, pieces.ToArray());
        Assert.ThrowsExactly<ArgumentException>(() => new PreTokenizerAdapter(["x", "x"]));
    }
}
