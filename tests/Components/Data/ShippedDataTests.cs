using System.Text.RegularExpressions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Tests.Support;

namespace Pipelines.Components.Tests.Data;

/// <summary>
/// Checks the corpora under samples/data that samples/data/make_data.py writes: presence, formats,
/// balance, no leftover part-of-speech tags, and no validation item repeated in train.
/// </summary>
[TestClass]
public sealed partial class ShippedDataTests
{
    private const int SpamTrainPerLabel = 800;
    private const int SpamValidationPerLabel = 200;
    private const int SpamMaxCharacters = 1000;
    private const int BrownGenreCount = 15;

    // Common Brown tags right after a word ("jury/nn", "said/vbd", "City/nn-tl"); words that contain a
    // slash themselves ("and/or", "1/2", "g/l") do not end in one of these.
    [GeneratedRegex(@"\S/(at|nn|nns|np|vb|vbd|vbn|vbz|vbg|jj|in|cc|rb|pps|ppss|dt|cd|to|md|be|bez|bedz|hvd|cs|ppo|wdt)(-tl|-hl|\$)?(?=\s|$)")]
    private static partial Regex PosTag();

    private static readonly Lazy<string> DataDirectory = new(() => RepositoryRoot.Combine("samples", "data"));

    private static string DataPath(string relative) => Path.Combine(DataDirectory.Value, relative);

    private static string[] Documents(string split) =>
        File.ReadAllText(DataPath($"brown/{split}.txt")).TrimEnd('\n').Split("\n\n");

    private static (string Label, string Text)[] SpamRows(string split)
    {
        var lines = File.ReadAllText(DataPath($"spam/{split}.tsv")).TrimEnd('\n').Split('\n');
        Assert.AreEqual("Label\tText", lines[0], $"spam/{split}.tsv header");
        return lines.Skip(1).Select(line =>
        {
            var fields = line.Split('\t');
            Assert.HasCount(2, fields, $"spam/{split}.tsv line '{line[..Math.Min(line.Length, 60)]}'");
            return (fields[0], fields[1]);
        }).ToArray();
    }

    private static (string Id, string Genre, string Split, int Characters)[] DocumentRows()
    {
        var lines = File.ReadAllText(DataPath("brown/documents.tsv")).TrimEnd('\n').Split('\n');
        Assert.AreEqual("Id\tGenre\tSplit\tCharacters", lines[0], "brown/documents.tsv header");
        return lines.Skip(1).Select(line =>
        {
            var fields = line.Split('\t');
            Assert.HasCount(4, fields, $"brown/documents.tsv line '{line}'");
            return (fields[0], fields[1], fields[2], int.Parse(fields[3], System.Globalization.CultureInfo.InvariantCulture));
        }).ToArray();
    }

    [TestMethod]
    [DataRow("make_data.py")]
    [DataRow("README.md")]
    [DataRow("brown/train.txt")]
    [DataRow("brown/validation.txt")]
    [DataRow("brown/documents.tsv")]
    [DataRow("spam/train.tsv")]
    [DataRow("spam/validation.tsv")]
    public void ShippedFileExistsAndIsNotEmpty(string relative)
    {
        var file = new FileInfo(DataPath(relative));
        Assert.IsTrue(file.Exists, $"missing {file.FullName}");
        Assert.IsGreaterThan(0L, file.Length, $"{relative} is empty");
    }

    [TestMethod]
    [DataRow("train", SpamTrainPerLabel)]
    [DataRow("validation", SpamValidationPerLabel)]
    public void SpamSplitHasLabelsTextsAndBalance(string split, int perLabel)
    {
        var rows = SpamRows(split);
        foreach (var (label, text) in rows)
        {
            Assert.IsTrue(label is "ham" or "spam", $"label '{label}' in spam/{split}.tsv");
            Assert.IsFalse(string.IsNullOrWhiteSpace(text), $"empty text in spam/{split}.tsv");
            Assert.IsLessThanOrEqualTo(SpamMaxCharacters, text.Length, $"text longer than {SpamMaxCharacters} in spam/{split}.tsv");
            Assert.IsFalse(text.Contains('\r'), $"carriage return in spam/{split}.tsv");
        }

        Assert.AreEqual(perLabel, rows.Count(row => row.Label == "ham"), $"ham rows in spam/{split}.tsv");
        Assert.AreEqual(perLabel, rows.Count(row => row.Label == "spam"), $"spam rows in spam/{split}.tsv");
    }

    [TestMethod]
    public void SpamTextsAreDistinctAndValidationIsNotInTrain()
    {
        var train = SpamRows("train").Select(row => row.Text).ToArray();
        var validation = SpamRows("validation").Select(row => row.Text).ToArray();
        var trainSet = new HashSet<string>(train, StringComparer.Ordinal);

        Assert.HasCount(train.Length, trainSet, "repeated texts in spam/train.tsv");
        Assert.AreEqual(validation.Length, validation.Distinct(StringComparer.Ordinal).Count(), "repeated texts in spam/validation.tsv");
        var leaked = validation.FirstOrDefault(trainSet.Contains);
        Assert.IsNull(leaked, $"validation text also in train: '{leaked}'");
    }

    [TestMethod]
    public void TagDetectorFindsTagsInRawBrownText()
    {
        // Guards the detector itself, so that the clean-text test below can fail.
        Assert.IsTrue(PosTag().IsMatch("The/at Fulton/np-tl County/nn-tl Grand/jj-tl Jury/nn-tl said/vbd Friday/nr"));
        Assert.IsTrue(PosTag().IsMatch("merger/nn"));
        Assert.IsFalse(PosTag().IsMatch("schools and/or colleges, 1/2 inch, 5 g/l of salt"));
    }

    [TestMethod]
    [DataRow("train")]
    [DataRow("validation")]
    public void BrownTextIsNonEmptyPlainText(string split)
    {
        var text = File.ReadAllText(DataPath($"brown/{split}.txt"));

        Assert.IsGreaterThan(100_000, text.Length, $"brown/{split}.txt is too short");
        var tag = PosTag().Match(text);
        Assert.IsFalse(tag.Success, $"POS tag '{tag.Value}' left in brown/{split}.txt");
        Assert.IsFalse(text.Contains("``") || text.Contains("''"), $"Brown quote tokens left in brown/{split}.txt");
        Assert.IsFalse(text.Contains('\r') || text.Contains('\t'), $"carriage return or tab in brown/{split}.txt");
        Assert.IsTrue(text.All(char.IsAscii), $"non-ASCII character in brown/{split}.txt");
    }

    [TestMethod]
    public void BrownDocumentTableMatchesTheTextFiles()
    {
        var rows = DocumentRows();

        Assert.AreEqual(rows.Length, rows.Select(row => row.Id).Distinct().Count(), "repeated document ids");
        foreach (var split in new[] { "train", "validation" })
        {
            var expected = rows.Where(row => row.Split == split).ToArray();
            var documents = Documents(split);
            Assert.HasCount(expected.Length, documents, $"documents in brown/{split}.txt");
            for (var index = 0; index < documents.Length; index++)
            {
                Assert.AreEqual(expected[index].Characters, documents[index].Length, $"characters of {expected[index].Id}");
            }
        }

        Assert.IsTrue(rows.All(row => row.Split is "train" or "validation"), "split other than train/validation");
        var genres = rows.GroupBy(row => row.Genre).ToArray();
        Assert.HasCount(BrownGenreCount, genres, "Brown genres");
        foreach (var genre in genres)
        {
            Assert.IsTrue(genre.Any(row => row.Split == "train"), $"no train document of {genre.Key}");
            Assert.IsTrue(genre.Any(row => row.Split == "validation"), $"no validation document of {genre.Key}");
        }
    }

    [TestMethod]
    public void BrownValidationDocumentsDoNotAppearInTrain()
    {
        var train = Documents("train");
        var trainDocuments = new HashSet<string>(train, StringComparer.Ordinal);
        var trainParagraphs = new HashSet<string>(train.SelectMany(document => document.Split('\n')), StringComparer.Ordinal);

        foreach (var document in Documents("validation"))
        {
            Assert.IsFalse(trainDocuments.Contains(document), $"validation document in train: '{document[..80]}'");
            // Long paragraphs are effectively unique; any of them in train would mean a leaked document.
            var leaked = document.Split('\n').FirstOrDefault(paragraph => paragraph.Length >= 200 && trainParagraphs.Contains(paragraph));
            Assert.IsNull(leaked, $"validation paragraph in train: '{leaked}'");
        }
    }
}
