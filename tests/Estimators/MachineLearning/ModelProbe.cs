using System.Diagnostics;
using Pipelines.Tests.Support;

namespace Pipelines.Estimators.Tests.MachineLearning;

/// <summary>Runs tests/ModelLoadProbe in a new process: loads a model file there and returns what it printed.</summary>
internal static class ModelProbe
{
    public static IReadOnlyList<string[]> Run(string modelPath, IEnumerable<string> texts)
    {
        var probe = RepositoryRoot.Combine("tests", "ModelLoadProbe", "bin",
            AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug", "net10.0", "ModelLoadProbe.dll");
        Assert.IsTrue(File.Exists(probe), $"The probe was not built at {probe}.");
        var textsPath = Path.ChangeExtension(modelPath, ".texts.txt");
        File.WriteAllLines(textsPath, texts);
        var start = new ProcessStartInfo("dotnet", [probe, modelPath, textsPath])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.IsTrue(process.WaitForExit(TimeSpan.FromMinutes(2)), "The probe did not finish within two minutes.");
        Assert.AreEqual(0, process.ExitCode, $"The probe failed: {error.Result}");
        return output.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split('\t')).ToList();
    }
}
