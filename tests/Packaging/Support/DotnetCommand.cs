using System.Diagnostics;

namespace Pipelines.Packaging.Tests.Support;

/// <summary>What a finished <c>dotnet</c> command wrote and how long it took.</summary>
/// <param name="ExitCode">The process's exit code.</param>
/// <param name="Output">Standard output.</param>
/// <param name="Error">Standard error.</param>
/// <param name="Elapsed">Wall-clock time from start to exit.</param>
internal sealed record DotnetResult(int ExitCode, string Output, string Error, TimeSpan Elapsed)
{
    /// <summary>Both streams, for an assertion message.</summary>
    public string Transcript => $"exit code {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
}

/// <summary>Runs the <c>dotnet</c> host as a child process with an environment of the caller's choosing.</summary>
internal static class DotnetCommand
{
    /// <summary>Long enough for a cold restore of a console app on two busy cores; a hang fails the test instead of the run.</summary>
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(8);

    /// <summary>Runs <c>dotnet <paramref name="arguments"/></c> in <paramref name="workingDirectory"/> and waits for it.</summary>
    /// <param name="workingDirectory">Where the command runs.</param>
    /// <param name="environment">Variables set (or, with a null value, removed) on top of this process's environment.</param>
    /// <param name="arguments">The command line after <c>dotnet</c>, one argument each.</param>
    /// <exception cref="TimeoutException">The command ran longer than eight minutes; it is killed with its children.</exception>
    public static DotnetResult Run(string workingDirectory, IReadOnlyDictionary<string, string?> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        // A child build must not join this test host's build (the variables dotnet test sets for MSBuild).
        foreach (var inherited in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "MSBuildLoadMicrosoftTargetsReadOnly" })
            start.Environment.Remove(inherited);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        foreach (var (name, value) in environment)
            if (value is null) start.Environment.Remove(name);
            else start.Environment[name] = value;

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(' ', arguments)} ran longer than {Timeout} in {workingDirectory}.");
        }
        process.WaitForExit();
        return new DotnetResult(process.ExitCode, output.Result, error.Result, clock.Elapsed);
    }
}
