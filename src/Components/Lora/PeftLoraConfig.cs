using System.Text.Json.Serialization;

namespace Pipelines.Components.Lora;

/// <summary>The fields of PEFT's <c>adapter_config.json</c> for a LoRA adapter that the engine writes and reads.</summary>
/// <remarks>
/// Names as in Hugging Face PEFT's <c>LoraConfig</c>. Per-module ranks and alphas that differ from <see cref="Rank"/> and
/// <see cref="Alpha"/> go to <see cref="RankPattern"/> and <see cref="AlphaPattern"/>, keyed by module path. Fields this
/// record lacks are ignored on reading.
/// </remarks>
public sealed record PeftLoraConfig
{
    /// <summary>Always <c>LORA</c>.</summary>
    [JsonPropertyName("peft_type")] public string PeftType { get; init; } = "LORA";

    /// <summary>The default rank r.</summary>
    [JsonPropertyName("r")] public int Rank { get; init; }

    /// <summary>The default alpha.</summary>
    [JsonPropertyName("lora_alpha")] public double Alpha { get; init; }

    /// <summary>Dropout on the adapter's input.</summary>
    [JsonPropertyName("lora_dropout")] public double Dropout { get; init; }

    /// <summary>Module names (<c>qkv</c>) or paths (<c>blocks.1.qkv</c>) to adapt.</summary>
    [JsonPropertyName("target_modules")] public IReadOnlyList<string> TargetModules { get; init; } = [];

    /// <summary>Layer indices to adapt, or null for every layer the targets match.</summary>
    [JsonPropertyName("layers_to_transform")] public IReadOnlyList<int>? LayersToTransform { get; init; }

    /// <summary>The module list whose index <see cref="LayersToTransform"/> refers to: <c>blocks</c>.</summary>
    [JsonPropertyName("layers_pattern")] public string? LayersPattern { get; init; }

    /// <summary>Scale by alpha/√r (rsLoRA) instead of alpha/r.</summary>
    [JsonPropertyName("use_rslora")] public bool UseRsLora { get; init; }

    /// <summary>Which biases train: the engine supports <c>none</c> only.</summary>
    [JsonPropertyName("bias")] public string Bias { get; init; } = "none";

    /// <summary>Whether weights are stored [in, out] (GPT-2's Conv1D); the engine stores [out, in], so false.</summary>
    [JsonPropertyName("fan_in_fan_out")] public bool FanInFanOut { get; init; }

    /// <summary>Ranks of modules that differ from <see cref="Rank"/>, by module path.</summary>
    [JsonPropertyName("rank_pattern")] public IReadOnlyDictionary<string, int> RankPattern { get; init; } = new Dictionary<string, int>();

    /// <summary>Alphas of modules that differ from <see cref="Alpha"/>, by module path.</summary>
    [JsonPropertyName("alpha_pattern")] public IReadOnlyDictionary<string, double> AlphaPattern { get; init; } = new Dictionary<string, double>();

    /// <summary>PEFT's initialisation flag (B = 0).</summary>
    [JsonPropertyName("init_lora_weights")] public bool InitLoraWeights { get; init; } = true;

    /// <summary>Whether the adapter is saved for inference.</summary>
    [JsonPropertyName("inference_mode")] public bool InferenceMode { get; init; } = true;

    /// <summary>The base model's name or path, if known.</summary>
    [JsonPropertyName("base_model_name_or_path")] public string? BaseModelNameOrPath { get; init; }

    /// <summary>PEFT's task type, if any.</summary>
    [JsonPropertyName("task_type")] public string? TaskType { get; init; }

    /// <summary>Modules trained fully besides the adapters: none.</summary>
    [JsonPropertyName("modules_to_save")] public IReadOnlyList<string>? ModulesToSave { get; init; }
}
