namespace Pipelines.Data.Mapping;

/// <summary>Matches the members of a data class with the columns of a schema.</summary>
internal static class DataClassBinding
{
    /// <summary>The schema of the readable members of <typeparamref name="TRow"/>, in member order.</summary>
    public static DataViewSchema SchemaOf<TRow>(IReadOnlyList<MemberBinding<TRow>> readable)
        where TRow : class =>
        DataViewSchema.Create(readable.Select(binding => new DataViewSchema.DetachedColumn(binding.Member.ColumnName, binding.Member.ColumnType)));

    /// <summary>
    /// The writable members of <typeparamref name="TRow"/> with the visible columns of <paramref name="schema"/> they
    /// read, each column checked against the member's type.
    /// </summary>
    /// <exception cref="SchemaMismatchException">A column is of the wrong type, or missing and <paramref name="ignoreMissingColumns"/> is false.</exception>
    public static IReadOnlyList<(MemberBinding<TRow> Binding, DataViewSchema.Column Column)> BindWritable<TRow>(DataViewSchema schema, bool ignoreMissingColumns)
        where TRow : class
    {
        var result = new List<(MemberBinding<TRow>, DataViewSchema.Column)>();
        foreach (var binding in MemberBinding<TRow>.For(member => member.CanWrite))
        {
            if (ignoreMissingColumns && schema.GetColumnOrNull(binding.Member.ColumnName) is null) continue;
            result.Add((binding, SchemaValidation.RequireColumn(schema, binding.Member.ColumnName, binding.Member.Requirement)));
        }

        return result;
    }

    /// <summary>Checks that a shape has a column for each writable member of <typeparamref name="TRow"/>.</summary>
    /// <exception cref="SchemaMismatchException">A column is missing or of the wrong type.</exception>
    public static void CheckWritable<TRow>(SchemaShape shape)
        where TRow : class
    {
        foreach (var member in DataClassMember.Of(typeof(TRow)).Where(member => member.CanWrite))
            SchemaValidation.RequireColumn(shape, member.ColumnName, member.Requirement);
    }
}
