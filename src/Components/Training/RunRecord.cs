using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;

namespace Pipelines.Components.Training;

/// <summary>One fact about a run: a name such as <c>training.BatchSize</c>, the kind of change it belongs to, and its value as text.</summary>
/// <param name="Name">The fact's name, unique in its record.</param>
/// <param name="Kind">The kind of change a different value is.</param>
/// <param name="Value">The value, formatted invariantly (doubles round-trip).</param>
public sealed record RunRecordEntry(string Name, RunChanges Kind, string Value);

/// <summary>One difference between a checkpoint's run and the resuming run.</summary>
/// <param name="Name">The fact that differs.</param>
/// <param name="Kind">Its kind of change.</param>
/// <param name="CheckpointValue">The checkpoint's value, or <c>(absent)</c>.</param>
/// <param name="CurrentValue">The resuming run's value, or <c>(absent)</c>.</param>
public sealed record RunDifference(string Name, RunChanges Kind, string CheckpointValue, string CurrentValue)
{
    /// <inheritdoc />
    public override string ToString() => $"{Name}: checkpoint {CheckpointValue}, current {CurrentValue}";
}

/// <summary>
/// What makes a training run that run: the model's configuration, every option that changes the trajectory (batch size,
/// sequence length, sampler seed), the optimizer chain with its hyperparameters and schedule, and a fingerprint of the
/// training data. A checkpoint stores it; resuming compares it with the resuming run's and refuses any difference not
/// declared on purpose (<see cref="RunChanges"/>), naming each one.
/// </summary>
/// <remarks>
/// Left out on purpose: the number of steps (a run may be continued), evaluation and checkpoint settings, and the thread
/// count (it changes the rounding, not the run; the same thread count is what makes a resume bit-identical). The optimizer
/// is described from its transforms' public properties (<see cref="Describe(IGradientTransform)"/>), so a hyperparameter added later is
/// recorded without anyone remembering to; functions (parameter selectors) can only be recorded as present.
/// </remarks>
public sealed partial class RunRecord
{
    private readonly RunRecordEntry[] entries;

    /// <summary>Creates a record from its entries.</summary>
    /// <exception cref="ArgumentException">Two entries share a name.</exception>
    public RunRecord(IEnumerable<RunRecordEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        this.entries = [.. entries];
        var duplicate = this.entries.GroupBy(entry => entry.Name, StringComparer.Ordinal).FirstOrDefault(group => group.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"The entry '{duplicate.Key}' appears {duplicate.Count()} times.", nameof(entries));
    }

    /// <summary>The facts, in a fixed order.</summary>
    public IReadOnlyList<RunRecordEntry> Entries => entries;

    /// <summary>The record of a causal language model trained by <see cref="LanguageModelTrainer"/>.</summary>
    public static RunRecord ForLanguageModel(TransformerConfig config, LanguageModelTrainingOptions options, IOptimizer optimizer, ReadOnlySpan<int> trainingTokens)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        return ForLanguageModel(config, options, Describe(optimizer), trainingTokens);
    }

    /// <summary>The record of a causal language model trained with the optimizer chain <paramref name="optimizer"/> on any backend.</summary>
    public static RunRecord ForLanguageModel(TransformerConfig config, LanguageModelTrainingOptions options, IGradientTransform optimizer, ReadOnlySpan<int> trainingTokens)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        return ForLanguageModel(config, options, Describe(optimizer), trainingTokens);
    }

    private static RunRecord ForLanguageModel(TransformerConfig config, LanguageModelTrainingOptions options, IReadOnlyList<RunRecordEntry> optimizer, ReadOnlySpan<int> trainingTokens)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        var entries = new List<RunRecordEntry> { new("model.Kind", RunChanges.ModelConfiguration, "causal language model") };
        AddModel(entries, config);
        entries.Add(Entry("training.BatchSize", RunChanges.BatchSize, options.BatchSize));
        entries.Add(Entry("training.SequenceLength", RunChanges.SequenceLength, options.SequenceLength));
        entries.Add(Entry("training.Seed", RunChanges.Seed, options.Seed));
        entries.AddRange(optimizer);
        entries.Add(Entry("data.TokenCount", RunChanges.TrainingData, trainingTokens.Length));
        entries.Add(new("data.Sha256", RunChanges.TrainingData, Fingerprint(MemoryMarshal.AsBytes(trainingTokens))));
        return new RunRecord(entries);
    }

    /// <summary>The record of an encoder classifier trained by <see cref="ClassifierTrainer"/>.</summary>
    /// <remarks>Per-example loss weights, when given, are part of the data: their fingerprint is recorded.</remarks>
    public static RunRecord ForClassifier(TransformerConfig config, int classCount, ClassifierTrainerOptions options, IOptimizer optimizer, LabeledSequences training,
        float[]? exampleWeights = null)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        return ForClassifier(config, classCount, options, Describe(optimizer), training, exampleWeights);
    }

    /// <summary>The record of an encoder classifier trained with the optimizer chain <paramref name="optimizer"/> on any backend.</summary>
    public static RunRecord ForClassifier(TransformerConfig config, int classCount, ClassifierTrainerOptions options, IGradientTransform optimizer, LabeledSequences training,
        float[]? exampleWeights = null)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        return ForClassifier(config, classCount, options, Describe(optimizer), training, exampleWeights);
    }

    private static RunRecord ForClassifier(TransformerConfig config, int classCount, ClassifierTrainerOptions options, IReadOnlyList<RunRecordEntry> optimizer,
        LabeledSequences training, float[]? exampleWeights)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(training);
        var entries = new List<RunRecordEntry> { new("model.Kind", RunChanges.ModelConfiguration, "encoder classifier") };
        AddModel(entries, config);
        entries.Add(Entry("model.ClassCount", RunChanges.ModelConfiguration, classCount));
        entries.Add(Entry("training.BatchSize", RunChanges.BatchSize, options.BatchSize));
        entries.Add(Entry("training.MaximumSequenceLength", RunChanges.SequenceLength, options.MaximumSequenceLength));
        entries.Add(Entry("training.Seed", RunChanges.Seed, options.Seed));
        entries.Add(new("training.Sampling", RunChanges.Seed, options.Sampling.ToString()));
        entries.AddRange(optimizer);
        entries.Add(Entry("data.ExampleCount", RunChanges.TrainingData, training.Count));
        entries.Add(new("data.Sha256", RunChanges.TrainingData, Fingerprint(training)));
        if (exampleWeights is not null)
            entries.Add(new("data.ExampleWeightsSha256", RunChanges.TrainingData, Fingerprint(MemoryMarshal.AsBytes(exampleWeights.AsSpan()))));
        return new RunRecord(entries);
    }

    /// <summary>
    /// The differences from <paramref name="checkpoint"/> (the stored run) to this run whose kind is not in
    /// <paramref name="accepted"/>, in this record's order, then the checkpoint's entries this run lacks.
    /// </summary>
    public IReadOnlyList<RunDifference> DifferencesFrom(RunRecord checkpoint, RunChanges accepted = RunChanges.None)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        const string Absent = "(absent)";
        var stored = checkpoint.entries.ToDictionary(entry => entry.Name, StringComparer.Ordinal);
        var differences = new List<RunDifference>();
        foreach (var entry in entries)
        {
            var before = stored.Remove(entry.Name, out var found) ? found.Value : Absent;
            if (before != entry.Value && (accepted & entry.Kind) == 0) differences.Add(new(entry.Name, entry.Kind, before, entry.Value));
        }

        foreach (var entry in checkpoint.entries)
        {
            if (stored.ContainsKey(entry.Name) && (accepted & entry.Kind) == 0) differences.Add(new(entry.Name, entry.Kind, entry.Value, Absent));
        }

        return differences;
    }

    /// <summary>Writes the record: its entry count, then each entry's name, kind and value.</summary>
    public void Write(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(entries.Length);
        foreach (var entry in entries)
        {
            writer.Write(entry.Name);
            writer.Write((int)entry.Kind);
            writer.Write(entry.Value);
        }
    }

    /// <summary>Reads a record written by <see cref="Write"/>.</summary>
    /// <exception cref="InvalidDataException">The stored record is malformed.</exception>
    public static RunRecord Read(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var count = reader.ReadInt32();
        if (count is < 0 or > 100_000) throw new InvalidDataException($"The run record claims {count} entries.");
        var read = new RunRecordEntry[count];
        for (var index = 0; index < count; index++)
            read[index] = new RunRecordEntry(reader.ReadString(), (RunChanges)reader.ReadInt32(), reader.ReadString());
        try
        {
            return new RunRecord(read);
        }
        catch (ArgumentException error)
        {
            throw new InvalidDataException($"The run record is malformed: {error.Message}", error);
        }
    }

    private static void AddModel(List<RunRecordEntry> entries, TransformerConfig config)
    {
        entries.Add(Entry("model.LayerCount", RunChanges.ModelConfiguration, config.LayerCount));
        entries.Add(Entry("model.HeadCount", RunChanges.ModelConfiguration, config.HeadCount));
        entries.Add(Entry("model.Channels", RunChanges.ModelConfiguration, config.Channels));
        entries.Add(Entry("model.ContextLength", RunChanges.ModelConfiguration, config.ContextLength));
        entries.Add(Entry("model.VocabularySize", RunChanges.ModelConfiguration, config.VocabularySize));
    }

    private static RunRecordEntry Entry<T>(string name, RunChanges kind, T value) where T : IFormattable =>
        new(name, kind, value.ToString(null, CultureInfo.InvariantCulture));

    private static string Fingerprint(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>SHA-256 over every example: its length, its token ids and its label, in order.</summary>
    private static string Fingerprint(LabeledSequences data)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<int> header = stackalloc int[2];
        for (var index = 0; index < data.Count; index++)
        {
            header[0] = data.Sequences[index].Length;
            header[1] = data.Labels[index];
            hash.AppendData(MemoryMarshal.AsBytes(header));
            hash.AppendData(MemoryMarshal.AsBytes(data.Sequences[index].AsSpan()));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
