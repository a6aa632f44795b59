using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Pipelines.Components.Backends;
using Pipelines.Components.TorchSharp.Backends;

namespace QuickStart;

/// <summary>The command line of the sample: <c>[steps] [--steps N] [--backend managed|torchsharp]</c>.</summary>
internal sealed record QuickStartArguments(int Steps, BackendChoice Backend)
{
    /// <summary>Training steps when none are given.</summary>
    public const int DefaultSteps = 4000;

    /// <summary>The root command: parses the arguments, validates them and hands them to <paramref name="run"/>.</summary>
    public static RootCommand CreateCommand(Func<QuickStartArguments, int> run)
    {
        var stepsArgument = new Argument<int>("steps")
        {
            Description = "Training steps (the same as --steps).",
            Arity = ArgumentArity.ZeroOrOne,
            DefaultValueFactory = _ => DefaultSteps,
            CustomParser = result => ParseSteps(result, "steps"),
        };
        var stepsOption = new Option<int>("--steps")
        {
            Description = "Training steps.",
            HelpName = "N",
            DefaultValueFactory = _ => DefaultSteps,
            CustomParser = result => ParseSteps(result, "--steps"),
        };
        var backendOption = new Option<string>("--backend")
        {
            Description = "Where the GPT trains: the managed engine or TorchSharp (libtorch, CPU).",
            HelpName = "managed|torchsharp",
            DefaultValueFactory = _ => "managed",
        };
        backendOption.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string>();
            if (!string.Equals(value, "managed", StringComparison.OrdinalIgnoreCase) && !string.Equals(value, "torchsharp", StringComparison.OrdinalIgnoreCase))
            {
                result.AddError($"Unknown backend '{value}': use --backend managed or --backend torchsharp.");
            }
        });

        var root = new RootCommand("Fits a BPE tokenizer then a small GPT on the shipped Brown corpus in one ML.NET chain; evaluates, samples, saves and reloads it.")
        {
            stepsArgument, stepsOption, backendOption,
        };
        root.Validators.Add(result =>
        {
            if (result.GetResult(stepsArgument) is { Tokens.Count: > 0 } positional && result.GetResult(stepsOption) is { Implicit: false, Tokens.Count: > 0 } named)
            {
                result.AddError($"Steps given twice: '{positional.Tokens[0].Value}' and --steps '{named.Tokens[0].Value}'; give one of them.");
            }
        });
        root.SetAction(parsed =>
        {
            var steps = parsed.GetResult(stepsOption) is { Implicit: false } ? parsed.GetValue(stepsOption) : parsed.GetValue(stepsArgument);
            var backend = string.Equals(parsed.GetValue(backendOption), "torchsharp", StringComparison.OrdinalIgnoreCase) ? BackendChoice.TorchSharp : BackendChoice.Managed;
            return run(new QuickStartArguments(steps, backend));
        });
        return root;
    }

    /// <summary>The backend object for the estimator's options: null keeps the managed default.</summary>
    public ITrainingBackend? CreateBackend() => Backend == BackendChoice.TorchSharp ? new TorchSharpBackend("cpu") : null;

    /// <summary>A positive whole number of steps, as the hand-written parser accepted; otherwise an error quoting the value.</summary>
    private static int ParseSteps(ArgumentResult result, string name)
    {
        if (result.Tokens.Count == 0) return DefaultSteps;
        var text = result.Tokens[0].Value;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var steps) && steps > 0) return steps;
        result.AddError($"{name} must be a positive whole number of steps, not '{text}'.");
        return DefaultSteps;
    }
}
