using Pipelines.Components.Tensors;

namespace Pipelines.Components.Models;

/// <summary>The parameter slices of one pre-LN transformer block, named as in PyTorch (<c>blocks.{l}.qkv.weight</c> ...).</summary>
public sealed record TransformerBlockParameters(
    ParameterSlice FirstNormScale,      // ln1.weight [C]
    ParameterSlice FirstNormShift,      // ln1.bias [C]
    ParameterSlice QkvWeight,           // qkv.weight [3C, C]
    ParameterSlice QkvBias,             // qkv.bias [3C]
    ParameterSlice ProjectionWeight,    // proj.weight [C, C]
    ParameterSlice ProjectionBias,      // proj.bias [C]
    ParameterSlice SecondNormScale,     // ln2.weight [C]
    ParameterSlice SecondNormShift,     // ln2.bias [C]
    ParameterSlice ExpandWeight,        // fc.weight [4C, C]
    ParameterSlice ExpandBias,          // fc.bias [4C]
    ParameterSlice ContractWeight,      // out.weight [C, 4C]
    ParameterSlice ContractBias)        // out.bias [C]
{
    /// <summary>Declares block <paramref name="layer"/>'s parameters in <paramref name="builder"/>.</summary>
    public static TransformerBlockParameters Declare(ParameterArenaBuilder builder, TransformerConfig config, int layer)
    {
        var prefix = $"blocks.{layer}.";
        var channels = config.Channels;
        return new TransformerBlockParameters(
            builder.Add(prefix + "ln1.weight", ParameterRole.NormScale, channels),
            builder.Add(prefix + "ln1.bias", ParameterRole.NormShift, channels),
            builder.Add(prefix + "qkv.weight", ParameterRole.LinearWeight, 3 * channels, channels),
            builder.Add(prefix + "qkv.bias", ParameterRole.LinearBias, 3 * channels),
            builder.Add(prefix + "proj.weight", ParameterRole.LinearWeight, channels, channels),
            builder.Add(prefix + "proj.bias", ParameterRole.LinearBias, channels),
            builder.Add(prefix + "ln2.weight", ParameterRole.NormScale, channels),
            builder.Add(prefix + "ln2.bias", ParameterRole.NormShift, channels),
            builder.Add(prefix + "fc.weight", ParameterRole.LinearWeight, config.HiddenChannels, channels),
            builder.Add(prefix + "fc.bias", ParameterRole.LinearBias, config.HiddenChannels),
            builder.Add(prefix + "out.weight", ParameterRole.LinearWeight, channels, config.HiddenChannels),
            builder.Add(prefix + "out.bias", ParameterRole.LinearBias, channels));
    }

    /// <summary>All slices of the block, in declaration order.</summary>
    public IEnumerable<ParameterSlice> All =>
    [
        FirstNormScale, FirstNormShift, QkvWeight, QkvBias, ProjectionWeight, ProjectionBias,
        SecondNormScale, SecondNormShift, ExpandWeight, ExpandBias, ContractWeight, ContractBias,
    ];
}
