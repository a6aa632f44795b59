namespace Pipelines.Scripts

open Pipelines.Components.Text

/// Byte-level BPE tokenizers (the component), for data that is tokenised before it enters a pipeline.
[<RequireQualifiedAccess>]
module Tokenizer =
    /// Learns a byte-pair encoding of at most <paramref name="vocabularySize"/> tokens from the texts (arXiv 1508.07909).
    /// <exception cref="System.ArgumentOutOfRangeException">A vocabulary below 256 tokens.</exception>
    let train (vocabularySize: int) (texts: string seq) : BytePairEncoding =
        BytePairEncodingTrainer(BytePairEncodingTrainerOptions(VocabularySize = vocabularySize)).Train(texts)

    /// The token ids of a text.
    let encode (tokenizer: BytePairEncoding) (text: string) : int[] = tokenizer.Encode text

    /// The text of token ids.
    let decode (tokenizer: BytePairEncoding) (tokens: int[]) : string = tokenizer.Decode(System.ReadOnlySpan tokens)

    /// Replaces each row's text by its token ids, keeping the label.
    let tokenizeLabeled (tokenizer: BytePairEncoding) (rows: LabeledText list) : TokenizedText list =
        rows |> List.map (fun row -> { Label = row.Label; Tokens = tokenizer.Encode row.Text })
