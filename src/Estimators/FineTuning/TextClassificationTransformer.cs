using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Serialization;
using Pipelines.Components.Training;
using Pipelines.Data;
using Pipelines.Model;

namespace Pipelines.FineTuning;

/// <summary>
/// The transformer of <see cref="TextClassificationEstimator"/>: adds the predicted label (of the label column's type)
/// and the per-class probabilities (<c>Score</c>, a vector of Single) of each row's token sequence, lazily.
/// </summary>
/// <remarks>
/// Each row runs on its own (batch of one), cut to <see cref="MaximumSequenceLength"/> tokens as in training, on one
/// thread, so predictions do not depend on the machine. Thread-safe: every running prediction borrows a model from a
/// pool. Saved as kind <see cref="KindName"/>: a JSON description and the weights as <c>weights.safetensors</c>.
/// </remarks>
public sealed class TextClassificationTransformer : ITransformer, ICanSaveModel
{
    /// <summary>The kind under which the transformer is saved.</summary>
    public const string KindName = "TextClassification";

    private const string WeightsEntryName = "weights.safetensors";

    private readonly ClassLabels classes;
    private readonly float[] weights;
    private readonly ConcurrentBag<EncoderClassifier> models = [];

    internal TextClassificationTransformer(string tokensColumnName, string predictedLabelColumnName, string scoreColumnName, ClassLabels classes,
        TransformerConfig modelConfig, int maximumSequenceLength, float[] weights, ClassifierTrainingResult? trainingResult)
    {
        TokensColumnName = tokensColumnName;
        PredictedLabelColumnName = predictedLabelColumnName;
        ScoreColumnName = scoreColumnName;
        this.classes = classes;
        ModelConfig = modelConfig;
        MaximumSequenceLength = maximumSequenceLength;
        this.weights = weights;
        TrainingResult = trainingResult;
    }

    /// <summary>The token-id column read.</summary>
    public string TokensColumnName { get; }

    /// <summary>The predicted-label column added.</summary>
    public string PredictedLabelColumnName { get; }

    /// <summary>The probability column added.</summary>
    public string ScoreColumnName { get; }

    /// <summary>
    /// The class of each <c>Score</c> slot, by name: text labels in ordinal order of their values, booleans as
    /// <c>False</c>, <c>True</c>, keys as <c>1</c>..<c>Count</c>.
    /// </summary>
    public IReadOnlyList<string> Classes => classes.Names;

    /// <summary>The type of the label column, which the predicted-label column shares.</summary>
    public DataViewType LabelType => classes.LabelType;

    /// <summary>The encoder's shape.</summary>
    public TransformerConfig ModelConfig { get; }

    /// <summary>Longest sequence the model reads; longer ones keep their first tokens.</summary>
    public int MaximumSequenceLength { get; }

    /// <summary>The run that produced the transformer (steps, loss history, final validation); null once loaded from a file.</summary>
    public ClassifierTrainingResult? TrainingResult { get; }

    /// <inheritdoc/>
    public bool IsRowToRowMapper => true;

    /// <inheritdoc/>
    public string Kind => KindName;

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return RowMappedDataView.CreateSchema(inputSchema, new Mapper(this, inputSchema).OutputColumns);
    }

    /// <inheritdoc/>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new RowMappedDataView(input, new Mapper(this, input.Schema));
    }

    /// <inheritdoc/>
    public void Save(IModelWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteJson(new Description(TokensColumnName, PredictedLabelColumnName, ScoreColumnName, DataViewTypeJson.ToJson(classes.LabelType), [.. classes.Names],
            new ModelShape(ModelConfig.LayerCount, ModelConfig.HeadCount, ModelConfig.Channels, ModelConfig.ContextLength, ModelConfig.VocabularySize), MaximumSequenceLength));
        var model = Rent();
        try
        {
            using var stream = writer.WriteStream(WeightsEntryName);
            model.Parameters.SaveSafeTensors(stream);
        }
        finally
        {
            models.Add(model);
        }
    }

    /// <summary>Loads a transformer saved by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">The description or the weights do not fit together.</exception>
    internal static ITransformer Load(IModelReader reader)
    {
        var description = reader.ReadJson<Description>();
        var shape = description.Model;
        var config = new TransformerConfig(shape.LayerCount, shape.HeadCount, shape.Channels, shape.ContextLength, shape.VocabularySize);
        if (description.MaximumSequenceLength < 1 || description.MaximumSequenceLength > config.ContextLength)
            throw new InvalidDataException($"The saved maximum sequence length {description.MaximumSequenceLength} is outside [1, {config.ContextLength}].");
        var classes = ClassLabels.Restore(DataViewTypeJson.FromJson(description.LabelType), description.Classes);
        var model = new EncoderClassifier(config, classes.Count, Parallelism.Sequential);
        using (var stream = reader.OpenStream(WeightsEntryName)) model.Parameters.LoadSafeTensors(stream);
        return new TextClassificationTransformer(description.TokensColumnName, description.PredictedLabelColumnName, description.ScoreColumnName, classes,
            config, description.MaximumSequenceLength, model.Parameters.Values.ToArray(), trainingResult: null);
    }

    /// <summary>A model of this transformer's weights that no other thread is using; give it back with <c>models.Add</c>.</summary>
    private EncoderClassifier Rent()
    {
        if (models.TryTake(out var model)) return model;
        model = new EncoderClassifier(ModelConfig, classes.Count, Parallelism.Sequential);
        weights.CopyTo(model.Parameters.Values);
        return model;
    }

    private void Predict(ReadOnlySpan<int> tokens, Span<float> probabilities)
    {
        var model = Rent();
        try
        {
            ClassifierTrainer.Predict(model, tokens, MaximumSequenceLength, probabilities);
        }
        finally
        {
            models.Add(model);
        }
    }

    private sealed record ModelShape(int LayerCount, int HeadCount, int Channels, int ContextLength, int VocabularySize);

    private sealed record Description(string TokensColumnName, string PredictedLabelColumnName, string ScoreColumnName, JsonNode LabelType,
        IReadOnlyList<string> Classes, ModelShape Model, int MaximumSequenceLength);

    private sealed class Mapper : IRowMapper
    {
        private readonly TextClassificationTransformer owner;
        private readonly DataViewSchema.Column tokensColumn;

        public Mapper(TextClassificationTransformer owner, DataViewSchema inputSchema)
        {
            this.owner = owner;
            tokensColumn = SchemaValidation.RequireColumn(inputSchema, owner.TokensColumnName, ColumnRequirement.Vector(NumberDataViewType.Int32));
            InputColumnNames = [owner.TokensColumnName];
            OutputColumns =
            [
                new DataViewSchema.DetachedColumn(owner.PredictedLabelColumnName, owner.classes.LabelType),
                new DataViewSchema.DetachedColumn(owner.ScoreColumnName, new VectorDataViewType(NumberDataViewType.Single, owner.classes.Count)),
            ];
        }

        public IReadOnlyList<string> InputColumnNames { get; }

        public IReadOnlyList<DataViewSchema.DetachedColumn> OutputColumns { get; }

        public Delegate?[] CreateGetters(DataViewRow input, Func<int, bool> isOutputActive)
        {
            var tokensGetter = input.GetGetter<ReadOnlyMemory<int>>(tokensColumn);
            var vocabulary = owner.ModelConfig.VocabularySize;
            ReadOnlyMemory<int> tokens = default;
            var computedPosition = -1L;
            var scores = Array.Empty<float>();
            var predicted = 0;

            // The model runs at most once per row, and only when an output column is read.
            void Compute()
            {
                if (input.Position == computedPosition) return;
                if (input.Position < 0) throw new InvalidOperationException("The cursor is not on a row: call MoveNext first.");
                tokensGetter(ref tokens);
                var span = tokens.Span;
                if (span.IsEmpty)
                    throw new ArgumentException($"Row {input.Position} has no tokens in column '{tokensColumn.Name}'; the encoder needs at least one.", nameof(input));
                for (var index = 0; index < span.Length; index++)
                {
                    if ((uint)span[index] >= (uint)vocabulary)
                        throw new ArgumentOutOfRangeException(nameof(input), span[index],
                            $"Row {input.Position} of column '{tokensColumn.Name}' holds token id {span[index]} at position {index}, outside the model's vocabulary of {vocabulary}.");
                }

                scores = new float[owner.classes.Count]; // a new array per row: a reader may keep the previous row's memory
                owner.Predict(span, scores);
                predicted = ClassifierTrainer.ArgMax(scores);
                computedPosition = input.Position;
            }

            int PredictedSlot()
            {
                Compute();
                return predicted;
            }

            ValueGetter<ReadOnlyMemory<float>> scoreGetter = (ref ReadOnlyMemory<float> value) =>
            {
                Compute();
                value = scores;
            };
            return [isOutputActive(0) ? owner.classes.PredictedLabelGetter(PredictedSlot) : null, isOutputActive(1) ? scoreGetter : null];
        }
    }
}
