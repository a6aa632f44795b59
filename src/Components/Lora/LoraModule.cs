using Pipelines.Components.Tensors;

namespace Pipelines.Components.Lora;

/// <summary>One adapted projection: its low-rank factors A (lora_A) and B (lora_B) and its scale.</summary>
/// <remarks>
/// <c>h = W0 x + scale · B A x</c>, A [r, IC], B [OC, r], scale = alpha/r (Hu et al., arXiv 2106.09685) or alpha/√r with
/// rsLoRA (Kalajdzievski, arXiv 2312.03732), which keeps the update's magnitude stable as r grows.
/// </remarks>
public sealed class LoraModule
{
    internal LoraModule(int layer, LoraProjection projection, int rank, double alpha, bool useRsLora, int inChannels, int outChannels, ParameterSlice down, ParameterSlice up)
    {
        Layer = layer;
        Projection = projection;
        Rank = rank;
        Alpha = alpha;
        Scale = (float)(useRsLora ? alpha / Math.Sqrt(rank) : alpha / rank);
        InChannels = inChannels;
        OutChannels = outChannels;
        Down = down;
        Up = up;
    }

    /// <summary>The block index.</summary>
    public int Layer { get; }

    /// <summary>The adapted projection.</summary>
    public LoraProjection Projection { get; }

    /// <summary>r.</summary>
    public int Rank { get; }

    /// <summary>alpha.</summary>
    public double Alpha { get; }

    /// <summary>alpha/r, or alpha/√r with rsLoRA.</summary>
    public float Scale { get; }

    /// <summary>IC, the projection's input width.</summary>
    public int InChannels { get; }

    /// <summary>OC, the projection's output width.</summary>
    public int OutChannels { get; }

    /// <summary>A, <c>blocks.{l}.{module}.lora_A.weight</c> [r, IC].</summary>
    public ParameterSlice Down { get; }

    /// <summary>B, <c>blocks.{l}.{module}.lora_B.weight</c> [OC, r].</summary>
    public ParameterSlice Up { get; }

    /// <summary>The module path, e.g. <c>blocks.2.qkv</c>.</summary>
    public string ModulePath => LoraProjections.ModulePath(Layer, Projection);

    /// <summary>The base weight this module adapts, e.g. <c>blocks.2.qkv.weight</c>.</summary>
    public string BaseWeightName => ModulePath + ".weight";

    // Per-forward buffers (grow-only): hidden = dropout(x) · Aᵀ [N, r]; the dropped input and keep factors [N, IC] when dropout is on.
    internal float[] Hidden = [];
    internal float[] HiddenGradient = [];
    internal float[] DroppedInput = [];
    internal float[] KeepFactors = [];
    internal float[] DroppedInputGradient = [];
    internal bool DroppedLastForward;
}
