// Usage: ModelLoadProbe <model.zip> <texts.txt>     or     ModelLoadProbe --make-fixture <directory> (FixtureMaker.cs)
// Loads the model with a fresh MLContext (no registration call: the model file names its loader assembly), runs
// every line of texts.txt through it, and prints each output column of each row as "row<TAB>column<TAB>values",
// followed by one line per transformer in the loaded chain: "transformer<TAB>type name".
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

if (args is ["--make-fixture", var fixtureDirectory]) return FixtureMaker.Make(fixtureDirectory);

var context = new MLContext(seed: 1);
var model = context.Model.Load(args[0], out var inputSchema);
var texts = File.ReadAllLines(args[1]).Select(text => new TextRow { Text = text });
var output = model.Transform(context.Data.LoadFromEnumerable(texts));
var columns = output.Schema.Where(column => !column.IsHidden && column.Name is not ("Text" or "Label")).ToArray();
using (var cursor = output.GetRowCursor(columns))
{
    var readers = columns.Select(column => (column.Name, Read: Reader(cursor, column))).ToArray();
    while (cursor.MoveNext())
        foreach (var (name, read) in readers)
            Console.WriteLine($"{cursor.Position}\t{name}\t{read()}");
}

foreach (var transformer in model as IEnumerable<ITransformer> ?? [model])
    Console.WriteLine($"transformer\t{transformer.GetType().Name}");
return 0;

static Func<string> Reader(DataViewRow row, DataViewSchema.Column column)
{
    var type = column.Type.RawType;
    if (type == typeof(VBuffer<uint>)) return Vector<uint>(row, column);
    if (type == typeof(VBuffer<float>)) return Vector<float>(row, column);
    if (type == typeof(uint)) return Scalar<uint>(row, column);
    if (type == typeof(float)) return Scalar<float>(row, column);
    if (type == typeof(ReadOnlyMemory<char>)) return Scalar<ReadOnlyMemory<char>>(row, column);
    return () => $"({type.Name})";
}

static Func<string> Vector<T>(DataViewRow row, DataViewSchema.Column column) where T : IFormattable
{
    var getter = row.GetGetter<VBuffer<T>>(column);
    VBuffer<T> value = default;
    return () =>
    {
        getter(ref value);
        return string.Join(" ", value.DenseValues().Select(item => item.ToString("R", CultureInfo.InvariantCulture)));
    };
}

static Func<string> Scalar<T>(DataViewRow row, DataViewSchema.Column column)
{
    var getter = row.GetGetter<T>(column);
    T value = default!;
    return () =>
    {
        getter(ref value);
        return value is IFormattable formattable ? formattable.ToString("R", CultureInfo.InvariantCulture) : value?.ToString() ?? "";
    };
}

internal sealed class TextRow
{
    public string Text { get; set; } = "";

    public string Label { get; set; } = "";
}
