using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Pipelines.Components.Models;
using Pipelines.Components.Serialization;

namespace Pipelines.Components.Lora;

/// <summary>Saves and loads a <see cref="LoraAdapter"/> on its own, in the two files Hugging Face PEFT writes.</summary>
/// <remarks>
/// <c>adapter_model.safetensors</c>: F32 tensors <c>base_model.model.{module path}.lora_A.weight</c> [r, in] and
/// <c>.lora_B.weight</c> [out, r] (no adapter name in the key). <c>adapter_config.json</c>: <see cref="PeftLoraConfig"/>.
/// A plan with one rank, alpha and target list for all its layers is written as <c>target_modules</c> = module names plus
/// <c>layers_to_transform</c>; a mixed plan lists module paths and puts differing ranks and alphas in <c>rank_pattern</c>
/// and <c>alpha_pattern</c>. Loading rebuilds the plan from the tensor names and checks every tensor against the config and
/// the model's shapes. LoRA: arXiv 2106.09685.
/// </remarks>
public static partial class LoraAdapterFiles
{
    /// <summary>The weights file's name.</summary>
    public const string WeightsFileName = "adapter_model.safetensors";

    /// <summary>The config file's name.</summary>
    public const string ConfigFileName = "adapter_config.json";

    /// <summary>What PEFT prefixes module paths with.</summary>
    public const string KeyPrefix = "base_model.model.";

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    /// <summary>Writes <paramref name="adapter"/> into <paramref name="directory"/> (created if missing).</summary>
    public static void Save(LoraAdapter adapter, string directory)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory.CreateDirectory(directory);
        var tensors = adapter.Modules.SelectMany(module => new[]
        {
            SafeTensor.Create(KeyPrefix + module.ModulePath + ".lora_A.weight", [module.Rank, module.InChannels], adapter.Parameters.ValuesOf(module.Down)),
            SafeTensor.Create(KeyPrefix + module.ModulePath + ".lora_B.weight", [module.OutChannels, module.Rank], adapter.Parameters.ValuesOf(module.Up)),
        });
        SafeTensors.Write(Path.Combine(directory, WeightsFileName), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        File.WriteAllText(Path.Combine(directory, ConfigFileName), JsonSerializer.Serialize(ToConfig(adapter.Plan), JsonOptions));
    }

    /// <summary>The PEFT config describing <paramref name="plan"/>.</summary>
    public static PeftLoraConfig ToConfig(LoraInjectionPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var first = plan.Layers.Count > 0 ? plan.Layers[0] : new LoraLayerPlan(0, 1, 1, []);
        var uniform = plan.Layers.All(entry => entry.Rank == first.Rank && entry.Alpha == first.Alpha && entry.Targets.Order().SequenceEqual(first.Targets.Order()));
        var modules = plan.Layers.SelectMany(entry => entry.Targets.Select(target => (Entry: entry, Path: LoraProjections.ModulePath(entry.Layer, target)))).ToArray();
        return new PeftLoraConfig
        {
            Rank = first.Rank,
            Alpha = first.Alpha,
            Dropout = plan.Dropout,
            UseRsLora = plan.UseRsLora,
            TargetModules = uniform ? first.Targets.Order().Select(target => target.ModuleName()).ToArray() : modules.Select(module => module.Path).ToArray(),
            LayersToTransform = uniform ? plan.Layers.Select(entry => entry.Layer).Order().ToArray() : null,
            LayersPattern = uniform ? "blocks" : null,
            RankPattern = modules.Where(module => module.Entry.Rank != first.Rank).ToDictionary(module => module.Path, module => module.Entry.Rank),
            AlphaPattern = modules.Where(module => module.Entry.Alpha != first.Alpha).ToDictionary(module => module.Path, module => module.Entry.Alpha),
        };
    }

    /// <summary>Reads an adapter from <paramref name="directory"/> for a model of shape <paramref name="config"/>.</summary>
    /// <param name="directory">Holds <c>adapter_model.safetensors</c> and <c>adapter_config.json</c>.</param>
    /// <param name="config">The base model's shape.</param>
    /// <param name="dropoutSeed">Seeds the loaded adapter's dropout source.</param>
    /// <exception cref="InvalidDataException">
    /// The adapter does not fit this base: a tensor names a module the model lacks or the config does not target, has the
    /// wrong shape or type, or a targeted module has no tensor. The message names the tensor.
    /// </exception>
    /// <exception cref="NotSupportedException">The config is not plain LoRA (<c>peft_type</c>, <c>bias</c>, <c>fan_in_fan_out</c>); the message names the value.</exception>
    public static LoraAdapter Load(string directory, TransformerConfig config, ulong dropoutSeed = 0)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentNullException.ThrowIfNull(config);
        var peft = JsonSerializer.Deserialize<PeftLoraConfig>(File.ReadAllText(Path.Combine(directory, ConfigFileName)), JsonOptions)
            ?? throw new InvalidDataException($"{ConfigFileName} holds no config.");
        if (peft.PeftType != "LORA") throw new NotSupportedException($"peft_type is '{peft.PeftType}'; only 'LORA' adapters load.");
        if (peft.Bias != "none") throw new NotSupportedException($"bias is '{peft.Bias}'; only 'none' is supported.");
        if (peft.FanInFanOut) throw new NotSupportedException("fan_in_fan_out is true; the engine stores weights [out, in].");
        var file = SafeTensors.Read(Path.Combine(directory, WeightsFileName));

        var modules = new List<(int Layer, LoraProjection Projection, int Rank, double Alpha)>();
        foreach (var tensor in file.Tensors)
        {
            var match = KeyPattern().Match(tensor.Name);
            if (!match.Success)
                throw new InvalidDataException($"Tensor '{tensor.Name}' is not a LoRA factor of a block projection (expected {KeyPrefix}blocks.<layer>.<qkv|proj|fc|out>.lora_A|lora_B.weight).");
            var layer = int.Parse(match.Groups["layer"].Value, CultureInfo.InvariantCulture);
            var path = $"blocks.{layer}.{match.Groups["module"].Value}";
            if (layer >= config.LayerCount)
                throw new InvalidDataException($"Tensor '{tensor.Name}' adapts layer {layer}; the model has layers 0 to {config.LayerCount - 1}.");
            if (!IsTargeted(peft, path, layer))
                throw new InvalidDataException($"Tensor '{tensor.Name}' adapts '{path}', which {ConfigFileName} does not target.");
            if (match.Groups["factor"].Value == "B") continue;
            var rank = Lookup(peft.RankPattern, path) ?? peft.Rank;
            var alpha = Lookup(peft.AlphaPattern, path) ?? peft.Alpha;
            modules.Add((layer, LoraProjections.Parse(match.Groups["module"].Value), rank, alpha));
        }

        var plan = new LoraInjectionPlan(
            modules.GroupBy(module => (module.Layer, module.Rank, module.Alpha)).OrderBy(group => group.Key.Layer)
                .Select(group => new LoraLayerPlan(group.Key.Layer, group.Key.Rank, group.Key.Alpha, group.Select(module => module.Projection).ToArray())).ToArray(),
            peft.Dropout, peft.UseRsLora);
        try
        {
            plan.Validate(config);
        }
        catch (ArgumentException exception)
        {
            throw new InvalidDataException($"The adapter in '{directory}' does not fit this model: {exception.Message}", exception);
        }

        var adapter = new LoraAdapter(config, plan, dropoutSeed);
        foreach (var slice in adapter.Parameters.Parameters)
        {
            var key = KeyPrefix + slice.Name;
            if (!file.Contains(key)) throw new InvalidDataException($"Tensor '{key}' is missing from {WeightsFileName}.");
            var tensor = file[key];
            var expected = slice.Shape.Select(dimension => (long)dimension).ToArray();
            if (tensor.DataType != SafeTensorDataType.Float32 || !tensor.Shape.SequenceEqual(expected))
                throw new InvalidDataException($"Tensor '{key}' is {tensor.DataType} [{string.Join(", ", tensor.Shape)}]; this model needs F32 [{string.Join(", ", expected)}].");
            tensor.CopyTo(adapter.Parameters.ValuesOf(slice));
        }

        var unused = file.Tensors.FirstOrDefault(tensor => !adapter.Parameters.Contains(tensor.Name[KeyPrefix.Length..]));
        if (unused is not null) throw new InvalidDataException($"Tensor '{unused.Name}' has no lora_A partner; the file is incomplete.");
        return adapter;
    }

    private static bool IsTargeted(PeftLoraConfig peft, string path, int layer)
    {
        var moduleName = path[(path.LastIndexOf('.') + 1)..];
        var targeted = peft.TargetModules.Any(target => target == moduleName || target == path || path.EndsWith("." + target, StringComparison.Ordinal));
        return targeted && (peft.LayersToTransform is null || peft.LayersToTransform.Contains(layer));
    }

    private static T? Lookup<T>(IReadOnlyDictionary<string, T> pattern, string path) where T : struct
    {
        foreach (var (key, value) in pattern)
        {
            if (key == path || path.EndsWith("." + key, StringComparison.Ordinal)) return value;
        }

        return null;
    }

    [GeneratedRegex(@"^base_model\.model\.blocks\.(?<layer>\d+)\.(?<module>qkv|proj|fc|out)\.lora_(?<factor>[AB])\.weight$")]
    private static partial Regex KeyPattern();
}
