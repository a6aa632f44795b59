namespace Pipelines.Scripts

open System
open System.Globalization
open System.IO
open System.Reflection
open System.Text
open Deedle
open Pipelines.Reporting

/// Where the report files go: each helper creates the directory of its file.
module internal Files =
    /// Creates the directory <paramref name="path"/> lies in, if missing.
    let ensureDirectory (path: string) =
        match Path.GetDirectoryName(Path.GetFullPath path) with
        | null -> ()
        | directory -> Directory.CreateDirectory directory |> ignore

/// Records (F# or C#) as CSV files, through <see cref="T:Pipelines.Reporting.MetricsCsv"/>: one column per public
/// property, invariant culture, floats that read back to the same bits. Use numbers, strings, booleans, enums,
/// dates and <c>Nullable</c> values in the records (not F# options).
[<RequireQualifiedAccess>]
module Csv =
    let private ensureDirectory = Files.ensureDirectory

    /// Writes a header and the records, replacing the file once the new content is complete (the directory is created).
    let write (path: string) (records: 'Record seq) : unit =
        ensureDirectory path
        MetricsCsv.Write(path, records)

    /// Appends the records, creating the file with a header when it is new (the directory is created).
    /// <exception cref="System.IO.InvalidDataException">The existing file has other columns.</exception>
    let append (path: string) (records: 'Record seq) : unit =
        ensureDirectory path
        MetricsCsv.Append(path, records)

    /// Reads the records of a file written by <c>write</c> or <c>append</c>.
    let read<'Record> (path: string) : 'Record list = MetricsCsv.Read<'Record>(path) |> List.ofSeq

/// Records as aligned text tables for the console.
[<RequireQualifiedAccess>]
module Table =
    let private columnsOf (recordType: Type) =
        recordType.GetProperties(BindingFlags.Public ||| BindingFlags.Instance)
        |> Array.filter (fun property -> property.GetIndexParameters().Length = 0)
        |> Array.sortBy (fun property -> property.MetadataToken)

    /// A value as table text: floats to four significant digits (whole numbers from 10,000 to 10^15, such as
    /// parameter counts, in full rather than with an exponent), empty for null and None, invariant culture.
    let rec formatValue (value: obj | null) : string =
        match value with
        | null -> ""
        | :? float as number when abs number >= 1e4 && abs number < 1e15 -> number.ToString("F0", CultureInfo.InvariantCulture)
        | :? float as number -> number.ToString("G4", CultureInfo.InvariantCulture)
        | :? float32 as number -> number.ToString("G4", CultureInfo.InvariantCulture)
        | :? TimeSpan as span -> span.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture) + " s"
        | :? IFormattable as formattable -> formattable.ToString(null, CultureInfo.InvariantCulture)
        | other when other.GetType().IsGenericType && other.GetType().GetGenericTypeDefinition() = typedefof<option<_>> ->
            // Some x (None is null): the inner value.
            match other.GetType().GetProperty "Value" with
            | null -> string other
            | property -> formatValue (property.GetValue other)
        | other -> string other

    /// The records as a table: a header of property names, one row per record; numbers right-aligned.
    let ofRecords (records: 'Record seq) : string =
        let columns = columnsOf typeof<'Record>
        let rows = [ for record in records -> [ for column in columns -> column.GetValue record ] ]
        let cells = rows |> List.map (List.map formatValue)
        let header = [ for column in columns -> column.Name ]
        let widths =
            header
            |> List.mapi (fun index name -> (name.Length, cells) ||> List.fold (fun width row -> max width row[index].Length))
        let numeric =
            columns
            |> Array.map (fun column ->
                let valueType = Nullable.GetUnderlyingType column.PropertyType |> Option.ofObj |> Option.defaultValue column.PropertyType
                valueType.IsPrimitive || valueType = typeof<decimal> || valueType = typeof<TimeSpan>)
            |> List.ofArray
        let line (row: string list) =
            List.zip3 row widths numeric
            |> List.map (fun (text, width, rightAligned) -> if rightAligned then text.PadLeft width else text.PadRight width)
            |> String.concat "  "
        let text = StringBuilder()
        text.AppendLine(line header).AppendLine(widths |> List.map (fun width -> String('-', width)) |> String.concat "  ") |> ignore
        for row in cells do
            text.AppendLine(line row) |> ignore
        text.ToString()

    /// Prints <c>ofRecords</c> to the console.
    let print (records: 'Record seq) : unit = Console.Write(ofRecords records)

/// Tables of results as Deedle frames: records to a frame (one column per public property, rows keyed 0, 1, ...),
/// grouping and aggregation with Deedle's own functions (<c>Frame.aggregateRowsBy</c>, <c>Frame.joinOn</c>, ...), and
/// frames to CSV files and the console. Float columns hold NaN as a missing value, written as an empty field.
[<RequireQualifiedAccess>]
module Frames =
    /// One row per record, one column per public property, in declaration order (<c>Frame.ofRecords</c>).
    let ofRecords (records: 'Record seq) : Frame<int, string> = Frame.ofRecords records

    /// Writes the frame's columns as CSV (a header of column names, no row keys, invariant culture, missing values
    /// empty), creating the directory.
    let saveCsv (path: string) (frame: Frame<'Row, string>) : unit =
        Files.ensureDirectory path
        frame.SaveCsv(path, includeRowKeys = false, culture = CultureInfo.InvariantCulture)

    /// Writes the frame as CSV with its row keys first, in a column named <paramref name="keyName"/> (for a frame
    /// indexed by a column, as <c>Frame.joinOn</c> leaves it), creating the directory.
    let saveCsvWithKeys (keyName: string) (path: string) (frame: Frame<'Row, string>) : unit =
        Files.ensureDirectory path
        frame.SaveCsv(path, includeRowKeys = true, keyNames = [ keyName ], culture = CultureInfo.InvariantCulture)

    /// The frame as Deedle formats it for the console (a longer frame shows its first and last 100 rows).
    let format (frame: Frame<'Row, 'Column>) : string = frame.Format(100, 100)

    /// Prints <c>format</c> to the console.
    let print (frame: Frame<'Row, 'Column>) : unit = Console.Write(format frame)
