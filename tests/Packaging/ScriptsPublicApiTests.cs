using Pipelines.Tests.Support;

namespace Pipelines.Packaging.Tests;

/// <summary>
/// The public surface of the F# package Pipelines.Scripts, which Microsoft.CodeAnalysis.PublicApiAnalyzers cannot read:
/// the compiler writes the build's signatures (<c>--sig</c>, src/Scripts/obj/&lt;configuration&gt;/PublicAPI.fsi), and
/// their public part, without doc comments, private or internal declarations and blank lines, must equal
/// src/Scripts/PublicAPI.fsi. <c>PIPELINES_UPDATE_PUBLIC_API=1</c> (tools/update-public-api.sh) rewrites that file instead.
/// </summary>
[TestClass]
public sealed class ScriptsPublicApiTests
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    [TestMethod]
    public void PublicSurfaceOfTheFSharpHelpersIsTheTrackedOne()
    {
        var built = PublicPart(File.ReadAllLines(RepositoryRoot.Combine("src", "Scripts", "obj", Configuration, "PublicAPI.fsi")));
        var trackedPath = RepositoryRoot.Combine("src", "Scripts", "PublicAPI.fsi");
        if (Environment.GetEnvironmentVariable("PIPELINES_UPDATE_PUBLIC_API") == "1") File.WriteAllText(trackedPath, built);
        var tracked = File.Exists(trackedPath) ? File.ReadAllText(trackedPath).ReplaceLineEndings("\n") : "";
        Assert.AreEqual(tracked, built,
            "The public surface of Pipelines.Scripts changed: run tools/update-public-api.sh and review the diff of src/Scripts/PublicAPI.fsi.");
    }

    [TestMethod]
    public void PublicPartDropsDocCommentsAndPrivateOrInternalDeclarationsWithTheirBodies()
    {
        string[] signature =
        [
            "namespace Pipelines.Scripts",
            "    /// A doc comment.",
            "    module Files =",
            "        val private helper:",
            "          x: int -> int",
            "        val visible: int",
            "",
            "    [<RequireQualifiedAccess>]",
            "    module internal Hidden =",
            "        val inner: int",
            "    [<RequireQualifiedAccess>]",
            "    type Shown = | A",
        ];
        Assert.AreEqual("namespace Pipelines.Scripts\n    module Files =\n        val visible: int\n    [<RequireQualifiedAccess>]\n    type Shown = | A\n", PublicPart(signature));
    }

    /// <summary>The signature lines without doc comments, blank lines, and private or internal declarations with their more-indented continuation.</summary>
    private static string PublicPart(IEnumerable<string> lines)
    {
        var kept = new List<string>();
        var attributes = new List<string>(); // held until the declaration they belong to shows whether it is public
        int? hiddenIndent = null;
        foreach (var line in lines)
        {
            var text = line.TrimStart();
            var indent = line.Length - text.Length;
            if (text.Length == 0 || text.StartsWith("///", StringComparison.Ordinal)) continue;
            if (hiddenIndent is { } hidden && indent > hidden) continue;
            hiddenIndent = null;
            if (text.StartsWith("[<", StringComparison.Ordinal))
            {
                attributes.Add(line.TrimEnd());
                continue;
            }
            var words = text.Split(' ', 3);
            if (words.Length > 1 && words[1] is "private" or "internal") hiddenIndent = indent;
            else kept.AddRange([.. attributes, line.TrimEnd()]);
            attributes.Clear();
        }
        return string.Join("\n", kept) + "\n";
    }
}
