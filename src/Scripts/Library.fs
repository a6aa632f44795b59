/// F# helpers over the Pipelines public API.
namespace Pipelines.Scripts

/// Placeholder until the pipeline layer lands.
module Version =
    /// The library's version string.
    let text = "0.1.0"
