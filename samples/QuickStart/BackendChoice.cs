namespace QuickStart;

/// <summary>Which backend trains the GPT.</summary>
internal enum BackendChoice
{
    /// <summary>The managed CPU engine (the estimator's default).</summary>
    Managed,

    /// <summary>TorchSharp on the CPU (libtorch-cpu-linux-x64).</summary>
    TorchSharp,
}
