using Pipelines.Components.Backends;
using Pipelines.Components.TorchSharp.Backends;

namespace QuickStart;

/// <summary>The command line of the sample: <c>[steps] [--backend managed|torchsharp]</c>.</summary>
internal sealed record QuickStartArguments(int Steps, BackendChoice Backend)
{
    /// <exception cref="ArgumentException">An argument is not understood; the message quotes it and shows the usage.</exception>
    public static QuickStartArguments Parse(string[] args)
    {
        const string usage = "Usage: QuickStart [steps] [--backend managed|torchsharp]";
        var (steps, backend) = (4000, BackendChoice.Managed);
        for (var index = 0; index < args.Length; index++)
        {
            if (args[index] == "--backend" && index + 1 < args.Length)
            {
                var value = args[++index];
                backend = value.ToLowerInvariant() switch
                {
                    "managed" => BackendChoice.Managed,
                    "torchsharp" => BackendChoice.TorchSharp,
                    _ => throw new ArgumentException($"Unknown backend '{value}': use managed or torchsharp. {usage}", nameof(args)),
                };
            }
            else if (int.TryParse(args[index], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var count) && count > 0)
            {
                steps = count;
            }
            else
            {
                throw new ArgumentException($"Argument '{args[index]}' is not understood. {usage}", nameof(args));
            }
        }

        return new QuickStartArguments(steps, backend);
    }

    /// <summary>The backend object for the estimator's options: null keeps the managed default.</summary>
    public ITrainingBackend? CreateBackend() => Backend == BackendChoice.TorchSharp ? new TorchSharpBackend("cpu") : null;
}
