using Microsoft.ML;
using Microsoft.ML.Data;
using Pipelines;
using Pipelines.Components.Models;
using Pipelines.Components.Schedules;
using Pipelines.Components.Training;
using Pipelines.FineTuning;
using Pipelines.Pretraining;
using Pipelines.Text;

namespace LayerDiagnostics;

/// <summary>A labelled text: a Brown paragraph with its genre, or a spam/ham message.</summary>
internal sealed class LabeledText
{
    public string Label { get; set; } = "";

    public string Text { get; set; } = "";
}

/// <summary>One Brown document, the row type of pre-training.</summary>
internal sealed class Document
{
    public string Text { get; set; } = "";
}

/// <summary>A source model's weights and how well it does on its own task (Brown genres).</summary>
/// <param name="Name">under-trained or over-trained.</param>
/// <param name="WeightsPath">The classifier's safetensors weights.</param>
/// <param name="Steps">Fine-tuning steps on the genre task.</param>
/// <param name="TrainingLoss">Mean training loss of the last tenth of the steps.</param>
/// <param name="ValidationLoss">Genre validation loss at the end.</param>
/// <param name="BestValidationLoss">The lowest genre validation loss measured during the run.</param>
/// <param name="ValidationAccuracy">Genre validation accuracy at the end.</param>
internal sealed record SourceModel(string Name, string WeightsPath, long Steps, double TrainingLoss, double ValidationLoss, double BestValidationLoss, double ValidationAccuracy);

/// <summary>
/// The source side of the experiment: a byte-pair encoding and a GPT pre-trained on Brown, then that GPT fine-tuned as an
/// encoder classifier on Brown genre classification (paragraphs labelled with their document's genre, 15 classes) to an
/// under-trained and an over-trained state.
/// </summary>
internal sealed class SourceModels(MLContext context, ExperimentSettings settings, string dataDirectory, string output, Display display)
{
    /// <summary>The tokenizer learnt on Brown's training split; the target task is tokenized with it too.</summary>
    public BytePairEncodingTransformer? Tokenizer { get; private set; }

    /// <summary>The pre-trained GPT's weights (the comparison model of dCKA).</summary>
    public string PretrainedPath => Path.Combine(output, "pretrained-gpt.safetensors");

    /// <summary>The encoder shape shared by every model.</summary>
    public TransformerConfig Shape => new(settings.Layers, settings.Heads, settings.Channels, settings.SequenceLength);

    /// <summary>Learns the tokenizer, pre-trains the GPT and fine-tunes the two source states.</summary>
    public IReadOnlyList<SourceModel> Build(CancellationToken cancellationToken)
    {
        var brown = Path.Combine(dataDirectory, "brown");
        var trainDocuments = Documents(Path.Combine(brown, "train.txt"));
        var validationDocuments = Documents(Path.Combine(brown, "validation.txt"));
        var tokenizer = context.Transforms.Text.TrainBytePairEncoding(vocabularySize: settings.VocabularySize)
            .Fit(context.Data.LoadFromEnumerable(trainDocuments.Select(text => new Document { Text = text })));
        Tokenizer = tokenizer;
        display.Line($"Brown BPE: {tokenizer.Tokenizer.VocabularySize} tokens.");

        var pretrainingData = tokenizer.Transform(context.Data.LoadFromEnumerable(trainDocuments.Select(text => new Document { Text = text })));
        var languageModel = display.Train("pre-training the GPT on Brown", settings.PretrainingSteps, progress => context.Pretraining().CausalLanguageModel(new CausalLanguageModelOptions
        {
            Model = Shape, BatchSize = settings.BatchSize, Steps = settings.PretrainingSteps, LearningRate = 3e-3, EvaluationInterval = 0,
            ThreadCount = settings.Threads, Seed = 1, Progress = progress, CancellationToken = cancellationToken,
        }).Fit(pretrainingData));
        using (var file = File.Create(PretrainedPath)) languageModel.Model.SaveSafeTensors(file);

        var genres = File.ReadLines(Path.Combine(brown, "documents.tsv")).Skip(1).Select(line => line.Split('\t')).ToArray();
        var trainGenres = genres.Where(row => row[2] == "train").Select(row => row[1]).ToArray();
        var validationGenres = genres.Where(row => row[2] == "validation").Select(row => row[1]).ToArray();
        var genreTrain = Tokenize(Paragraphs(trainDocuments, trainGenres), out var labels);
        var genreValidation = labels.Transform(tokenizer.Transform(context.Data.LoadFromEnumerable(Paragraphs(validationDocuments, validationGenres))));
        display.Line($"Brown genres: {genreTrain.GetColumn<uint>("Label").Count()} training and {genreValidation.GetColumn<uint>("Label").Count()} validation paragraphs, 15 genres.");
        return
        [
            FineTuneSource("under-trained", settings.UnderTrainedSteps, genreTrain, genreValidation, cancellationToken),
            FineTuneSource("over-trained", settings.OverTrainedSteps, genreTrain, genreValidation, cancellationToken),
        ];
    }

    /// <summary>Tokenizes rows with the Brown tokenizer and maps their labels to keys (the map learnt on these rows).</summary>
    public IDataView Tokenize(IEnumerable<LabeledText> rows, out ITransformer labels)
    {
        var tokens = Tokenizer!.Transform(context.Data.LoadFromEnumerable(rows.ToArray()));
        labels = context.Transforms.Conversion.MapValueToKey("Label").Fit(tokens);
        return labels.Transform(tokens);
    }

    private SourceModel FineTuneSource(string name, long steps, IDataView train, IDataView validation, CancellationToken cancellationToken)
    {
        var classifier = display.Train($"fine-tuning the {name} source on genres", steps, progress => context.MulticlassClassification.Trainers.TextClassifier(new TextClassificationOptions
        {
            Model = Shape, MaximumSequenceLength = settings.SequenceLength, BatchSize = settings.BatchSize, Steps = steps,
            LearningRateSchedule = total => new CosineSchedule(settings.SourceLearningRate, total, warmupSteps: total / 10),
            PretrainedWeightsPath = PretrainedPath, ValidationSet = validation, EvaluationInterval = (int)Math.Max(1, steps / 10),
            ThreadCount = settings.Threads, Seed = 1, Progress = progress, CancellationToken = cancellationToken,
        }).Fit(train));
        var path = Path.Combine(output, $"source-{name}.safetensors");
        using (var file = File.Create(path)) classifier.Model.SaveSafeTensors(file);
        var result = classifier.TrainingResult!;
        var history = result.History;
        var tail = history.Skip(history.Count - Math.Max(1, history.Count / 10)).Average(step => step.TrainingLoss);
        var best = history.Where(step => step.ValidationLoss is not null).Min(step => step.ValidationLoss!.Value);
        var source = new SourceModel(name, path, steps, tail, result.FinalValidation!.Loss, best, result.FinalValidation.Accuracy);
        display.Line($"Source {name}: {steps} steps, training loss {source.TrainingLoss:F3}, genre validation loss {source.ValidationLoss:F3} " +
            $"(lowest {source.BestValidationLoss:F3}), accuracy {source.ValidationAccuracy:P1}.");
        return source;
    }

    private static string[] Documents(string path) => File.ReadAllText(path).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The first paragraphs of at least 200 characters of every document, labelled with its genre.</summary>
    private IEnumerable<LabeledText> Paragraphs(string[] documents, string[] genres)
    {
        if (documents.Length != genres.Length) throw new InvalidDataException($"{documents.Length} documents but {genres.Length} genres in documents.tsv.");
        for (var index = 0; index < documents.Length; index++)
        {
            foreach (var paragraph in documents[index].Split('\n').Where(line => line.Length >= 200).Take(settings.ParagraphsPerDocument))
                yield return new LabeledText { Label = genres[index], Text = paragraph };
        }
    }
}
