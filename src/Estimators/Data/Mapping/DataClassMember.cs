using System.Reflection;

namespace Pipelines.Data.Mapping;

/// <summary>
/// One public field or property of a data class seen as a column: its name, its column type, and how it may be
/// read and written. This is data mapping (as ML.NET's schema definitions), not component registration.
/// </summary>
internal sealed class DataClassMember
{
    private DataClassMember(MemberInfo member, Type memberType, string columnName, DataViewType columnType, bool canRead, bool canWrite)
    {
        Member = member;
        MemberType = memberType;
        ColumnName = columnName;
        ColumnType = columnType;
        CanRead = canRead;
        CanWrite = canWrite;
        LoadColumn = member.GetCustomAttribute<LoadColumnAttribute>();
        RawType = columnType.RawType;
    }

    /// <summary>The field or property.</summary>
    public MemberInfo Member { get; }

    /// <summary>The member's .NET type (float, string, int[]...).</summary>
    public Type MemberType { get; }

    /// <summary>The column name ([ColumnName] or the member's name).</summary>
    public string ColumnName { get; }

    /// <summary>The column type the member's values have when loaded.</summary>
    public DataViewType ColumnType { get; }

    /// <summary>The raw type of <see cref="ColumnType"/>.</summary>
    public Type RawType { get; }

    /// <summary>Whether the member has a public getter (it can be a source of data).</summary>
    public bool CanRead { get; }

    /// <summary>Whether the member has a public setter (it can receive data).</summary>
    public bool CanWrite { get; }

    /// <summary>The text-file fields the member is read from, when marked.</summary>
    public LoadColumnAttribute? LoadColumn { get; }

    /// <summary>The description of the member for messages: <c>Type.Member</c>.</summary>
    public string DisplayName => $"{Member.DeclaringType?.Name}.{Member.Name}";

    /// <summary>What a column must be to be read into this member.</summary>
    public ColumnRequirement Requirement => ColumnType switch
    {
        // A uint member takes keys of any count, and plain UInt32 unless it is marked as a key.
        KeyDataViewType => ColumnRequirement.Key(),
        NumberDataViewType number when number == NumberDataViewType.UInt32 => ColumnRequirement.OneOf(ColumnRequirement.Exactly(number), ColumnRequirement.Key()),
        VectorDataViewType { ItemType: KeyDataViewType } vector => ColumnRequirement.Vector(vector.ItemType),
        VectorDataViewType { ItemType: NumberDataViewType item } vector when item == NumberDataViewType.UInt32 =>
            ColumnRequirement.OneOf(ColumnRequirement.Vector(item), ColumnRequirement.Vector(new KeyDataViewType(1))),
        VectorDataViewType { IsKnownSize: true } vector => ColumnRequirement.Vector(vector.ItemType, vector.Size),
        VectorDataViewType vector => ColumnRequirement.Vector(vector.ItemType),
        _ => ColumnRequirement.Exactly(ColumnType),
    };

    /// <summary>The column members of <paramref name="type"/>: public instance fields and properties not marked [NoColumn].</summary>
    /// <exception cref="InvalidOperationException">A member's type maps to no column type, or two members share a column name.</exception>
    public static IReadOnlyList<DataClassMember> Of(Type type)
    {
        var members = new List<DataClassMember>();
        const BindingFlags flags = BindingFlags.Public | BindingFlags.Instance;
        foreach (var member in type.GetMembers(flags).Where(member => member is FieldInfo or PropertyInfo).OrderBy(member => member.MetadataToken))
        {
            if (member.IsDefined(typeof(NoColumnAttribute), inherit: true)) continue;
            var (memberType, canRead, canWrite) = member switch
            {
                FieldInfo field => (field.FieldType, true, !field.IsInitOnly && !field.IsLiteral),
                PropertyInfo property when property.GetIndexParameters().Length == 0 =>
                    (property.PropertyType, property.GetMethod?.IsPublic == true, property.SetMethod?.IsPublic == true),
                _ => (null!, false, false),
            };
            if (memberType is null || (!canRead && !canWrite)) continue;
            var columnName = member.GetCustomAttribute<ColumnNameAttribute>()?.Name ?? member.Name;
            var columnType = ColumnTypeOf(member, memberType)
                ?? throw new InvalidOperationException(
                    $"Member {type.Name}.{member.Name} is a {memberType.Name}, which maps to no column type " +
                    "(supported: float, double, int, uint, long, bool, string and arrays of them); mark it [NoColumn] to leave it out.");
            if (members.Any(existing => existing.ColumnName == columnName))
                throw new InvalidOperationException($"Two members of {type.Name} map to the column '{columnName}'.");
            members.Add(new DataClassMember(member, memberType, columnName, columnType, canRead, canWrite));
        }

        return members;
    }

    private static DataViewType? ColumnTypeOf(MemberInfo member, Type memberType)
    {
        var key = member.GetCustomAttribute<KeyTypeAttribute>();
        if (memberType.IsArray)
        {
            if (memberType.GetArrayRank() != 1 || PrimitiveTypeOf(memberType.GetElementType()!, key) is not { } itemType) return null;
            var dimensions = member.GetCustomAttribute<VectorTypeAttribute>()?.Dimensions ?? [];
            return new VectorDataViewType(itemType, [.. dimensions]);
        }

        return PrimitiveTypeOf(memberType, key);
    }

    private static PrimitiveDataViewType? PrimitiveTypeOf(Type type, KeyTypeAttribute? key)
    {
        if (key is not null)
            return type == typeof(uint) ? new KeyDataViewType(key.Count) : null;
        if (type == typeof(float)) return NumberDataViewType.Single;
        if (type == typeof(double)) return NumberDataViewType.Double;
        if (type == typeof(int)) return NumberDataViewType.Int32;
        if (type == typeof(uint)) return NumberDataViewType.UInt32;
        if (type == typeof(long)) return NumberDataViewType.Int64;
        if (type == typeof(bool)) return BooleanDataViewType.Instance;
        if (type == typeof(string) || type == typeof(ReadOnlyMemory<char>)) return TextDataViewType.Instance;
        return null;
    }
}
