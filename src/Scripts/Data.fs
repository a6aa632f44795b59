namespace Pipelines.Scripts

open Microsoft.ML
open System
open System.IO

/// Which part of a shipped corpus.
type Split =
    /// The training part.
    | Train
    /// The held-out part.
    | Validation

/// A text with its label (a row of the spam TSVs).
type LabeledText = { Label: string; Text: string }

/// A document: the <c>Text</c> column a tokenizer reads.
type Document = { Text: string }

/// The corpora shipped in <c>samples/data</c> (see its README): Brown text and SpamAssassin messages.
[<RequireQualifiedAccess>]
module Data =
    /// <c>&lt;repository&gt;/samples/data</c>.
    let samplesDirectory () : string =
        Path.Combine(Experiment.repositoryRoot (), "samples", "data")

    let private splitName split =
        match split with
        | Train -> "train"
        | Validation -> "validation"

    /// Reads a spam TSV (header <c>Label\tText</c>, one tab a line, no quoting) into a list of messages.
    /// <exception cref="System.IO.InvalidDataException">The header is not <c>Label\tText</c>, or a line has no tab (the line is named).</exception>
    let readSpamFile (path: string) : LabeledText list =
        let lines = File.ReadAllLines path
        if lines.Length = 0 || lines[0] <> "Label\tText" then
            raise (InvalidDataException $"'{path}' does not start with the header 'Label<tab>Text'.")
        [ for index in 1 .. lines.Length - 1 do
              let line = lines[index]
              match line.IndexOf '\t' with
              | tab when tab > 0 -> { Label = line[.. tab - 1]; Text = line[tab + 1 ..] }
              | _ -> raise (InvalidDataException $"Line {index + 1} of '{path}' has no label and tab.") ]

    /// The shipped spam messages of a split: 800 ham + 800 spam (train) or 200 + 200 (validation).
    let spam (split: Split) : LabeledText list =
        readSpamFile (Path.Combine(samplesDirectory (), "spam", $"{splitName split}.tsv"))

    /// The shipped Brown text of a split, one paragraph a line, documents separated by a blank line.
    let brown (split: Split) : string =
        File.ReadAllText(Path.Combine(samplesDirectory (), "brown", $"{splitName split}.txt"))

    /// The shipped Brown documents of a split (446 train, 54 validation), in the order of <c>documents.tsv</c>.
    let brownDocuments (split: Split) : string list =
        (brown split).Split("\n\n", StringSplitOptions.RemoveEmptyEntries) |> List.ofArray

    /// Texts as documents (rows of one <c>Text</c> column).
    let documents (texts: string seq) : Document list = [ for text in texts -> { Text = text } ]

    /// The first <paramref name="count"/> rows of each label, in their original order (a stratified slice).
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    let takePerLabel (count: int) (rows: LabeledText list) : LabeledText list =
        if count < 0 then raise (ArgumentOutOfRangeException(nameof count, count, "Must not be negative."))
        rows
        |> List.mapFold
            (fun (seen: Map<string, int>) row ->
                let taken = seen |> Map.tryFind row.Label |> Option.defaultValue 0
                (if taken < count then Some row else None), seen |> Map.add row.Label (taken + 1))
            Map.empty
        |> fst
        |> List.choose id

    /// Loads rows (F# records or classes; each public property becomes a column) into an ML.NET view
    /// (<c>mlContext.Data.LoadFromEnumerable</c>).
    let load (context: MLContext) (rows: 'Row seq) : IDataView when 'Row: not struct =
        context.Data.LoadFromEnumerable<'Row>(rows)
