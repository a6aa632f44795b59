using System.Linq.Expressions;
using System.Reflection;

namespace Pipelines.Data.Mapping;

/// <summary>Typed access to one column member of a data class <typeparamref name="TRow"/>.</summary>
internal abstract class MemberBinding<TRow>
    where TRow : class
{
    protected MemberBinding(DataClassMember member) => Member = member;

    /// <summary>The member.</summary>
    public DataClassMember Member { get; }

    /// <summary>Adds the member's values over <paramref name="rows"/> as a column of <paramref name="builder"/>, of the member's type or <paramref name="columnType"/>.</summary>
    public abstract void AddColumn(InMemoryDataView.Builder builder, IReadOnlyList<TRow> rows, DataViewType? columnType = null);

    /// <summary>A <c>ValueGetter&lt;TRaw&gt;</c> reading the member of the row <paramref name="currentRow"/> returns.</summary>
    public abstract Delegate CreateGetter(Func<TRow> currentRow, string columnName);

    /// <summary>An action copying <paramref name="column"/> of the current row of <paramref name="row"/> into the member.</summary>
    public abstract Action<TRow> CreateAssigner(DataViewRow row, DataViewSchema.Column column);

    /// <summary>An action setting the member from a value of the member's own type (text-file parsing).</summary>
    public abstract Action<TRow, object> CreateSetter();

    /// <summary>Bindings of the members of <typeparamref name="TRow"/> that <paramref name="include"/> accepts.</summary>
    public static IReadOnlyList<MemberBinding<TRow>> For(Func<DataClassMember, bool> include) =>
        [.. DataClassMember.Of(typeof(TRow)).Where(include).Select(member =>
            (MemberBinding<TRow>)Activator.CreateInstance(
                typeof(MemberBinding<,,>).MakeGenericType(typeof(TRow), member.MemberType, member.RawType), member)!)];
}

/// <summary>Compiled accessors for one member; <typeparamref name="TRaw"/> is its column's raw type.</summary>
internal sealed class MemberBinding<TRow, TMember, TRaw> : MemberBinding<TRow>
    where TRow : class
{
    private readonly Func<TRow, TMember>? get;
    private readonly Action<TRow, TMember>? set;
    private readonly Func<TMember, TRaw> toRaw;
    private readonly Func<TRaw, TMember> fromRaw;

    public MemberBinding(DataClassMember member) : base(member)
    {
        var row = Expression.Parameter(typeof(TRow), "row");
        var access = Expression.MakeMemberAccess(row, member.Member);
        if (member.CanRead) get = Expression.Lambda<Func<TRow, TMember>>(access, row).Compile();
        if (member.CanWrite)
        {
            var value = Expression.Parameter(typeof(TMember), "value");
            set = Expression.Lambda<Action<TRow, TMember>>(Expression.Assign(access, value), row, value).Compile();
        }

        toRaw = (Func<TMember, TRaw>)RawConversions.ToRaw(typeof(TMember));
        fromRaw = (Func<TRaw, TMember>)RawConversions.FromRaw(typeof(TMember));
    }

    public override void AddColumn(InMemoryDataView.Builder builder, IReadOnlyList<TRow> rows, DataViewType? columnType = null)
    {
        var read = Readable();
        var values = new TRaw[rows.Count];
        for (var index = 0; index < values.Length; index++) values[index] = toRaw(read(rows[index]));
        builder.AddColumn(Member.ColumnName, columnType ?? Member.ColumnType, values);
    }

    public override Delegate CreateGetter(Func<TRow> currentRow, string columnName)
    {
        var read = Readable();
        var type = Member.ColumnType;
        return (ValueGetter<TRaw>)((ref TRaw value) =>
        {
            value = toRaw(read(currentRow()));
            ValueChecks.Check(type, value, columnName, row: 0);
        });
    }

    public override Action<TRow> CreateAssigner(DataViewRow row, DataViewSchema.Column column)
    {
        var write = Writable();
        var getter = row.GetGetter<TRaw>(column);
        return target =>
        {
            TRaw value = default!;
            getter(ref value);
            write(target, fromRaw(value));
        };
    }

    public override Action<TRow, object> CreateSetter()
    {
        var write = Writable();
        return (target, value) => write(target, (TMember)value);
    }

    private Func<TRow, TMember> Readable() =>
        get ?? throw new InvalidOperationException($"Member {Member.DisplayName} has no public getter.");

    private Action<TRow, TMember> Writable() =>
        set ?? throw new InvalidOperationException($"Member {Member.DisplayName} has no public setter.");
}
