using Microsoft.ML;

namespace QuickStart;

/// <summary>One document of the Brown corpus: the row type of the sample's data views.</summary>
public sealed class Document
{
    public string Text { get; set; } = "";
}

/// <summary>Finds the shipped corpus and reads it as one document per row.</summary>
internal static class SampleData
{
    /// <summary>The repository root: the first directory holding <c>Pipelines.sln</c>, walking up from the current directory, then from the program's own.</summary>
    public static string FindRepositoryRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
                if (File.Exists(Path.Combine(directory.FullName, "Pipelines.sln"))) return directory.FullName;
        }

        throw new DirectoryNotFoundException("Pipelines.sln was not found above the current directory nor above the program; run the sample from inside the repository.");
    }

    /// <summary>The documents of <c>samples/data/brown/{fileName}</c> (separated by blank lines) and their number.</summary>
    public static (IDataView Documents, int Count) LoadBrown(MLContext context, string root, string fileName)
    {
        var text = File.ReadAllText(Path.Combine(root, "samples", "data", "brown", fileName));
        var documents = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(document => new Document { Text = document }).ToArray();
        return (context.Data.LoadFromEnumerable(documents), documents.Length);
    }

    /// <summary>The unigram byte entropy of a file in bits per byte, <c>−Σ p(b) log₂ p(b)</c>: the baseline a language model must beat.</summary>
    public static double UnigramBitsPerByte(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var counts = new long[256];
        foreach (var value in bytes) counts[value]++;
        return -counts.Where(count => count > 0).Sum(count => (double)count / bytes.Length * Math.Log2((double)count / bytes.Length));
    }
}
