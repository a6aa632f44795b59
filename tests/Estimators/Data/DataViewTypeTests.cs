using Pipelines.Data;

namespace Pipelines.Estimators.Tests.Data;

[TestClass]
public sealed class DataViewTypeTests
{
    [TestMethod]
    public void NumberTypesReadTheirClrTypes()
    {
        Assert.AreEqual(typeof(float), NumberDataViewType.Single.RawType);
        Assert.AreEqual(typeof(double), NumberDataViewType.Double.RawType);
        Assert.AreEqual(typeof(int), NumberDataViewType.Int32.RawType);
        Assert.AreEqual(typeof(uint), NumberDataViewType.UInt32.RawType);
        Assert.AreEqual(typeof(long), NumberDataViewType.Int64.RawType);
        Assert.AreEqual(typeof(bool), BooleanDataViewType.Instance.RawType);
        Assert.AreEqual(typeof(ReadOnlyMemory<char>), TextDataViewType.Instance.RawType);
        Assert.AreNotEqual<DataViewType>(NumberDataViewType.Single, NumberDataViewType.Double);
    }

    [TestMethod]
    public void KeyTypesCompareByCount()
    {
        Assert.AreEqual(new KeyDataViewType(10), new KeyDataViewType(10));
        Assert.AreNotEqual(new KeyDataViewType(10), new KeyDataViewType(11));
        Assert.AreEqual(typeof(uint), new KeyDataViewType(3).RawType);
        Assert.AreEqual("Key<UInt32, 0-9>", new KeyDataViewType(10).ToString());
    }

    [TestMethod]
    [DataRow(0UL)]
    [DataRow((ulong)uint.MaxValue + 1)]
    public void KeyCountOutOfRangeThrows(ulong count) =>
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new KeyDataViewType(count));

    [TestMethod]
    public void VectorTypesHaveSizeAndKind()
    {
        var fixedSize = new VectorDataViewType(NumberDataViewType.Single, 2, 3);
        Assert.AreEqual(6, fixedSize.Size);
        Assert.IsTrue(fixedSize.IsKnownSize);
        Assert.AreEqual(typeof(ReadOnlyMemory<float>), fixedSize.RawType);
        Assert.AreEqual("Vector<Single, 2, 3>", fixedSize.ToString());

        var tokens = new VectorDataViewType(NumberDataViewType.Int32);
        Assert.AreEqual(0, tokens.Size);
        Assert.IsFalse(tokens.IsKnownSize);
        Assert.AreEqual(typeof(ReadOnlyMemory<int>), tokens.RawType);
        Assert.AreEqual("Vector<Int32>", tokens.ToString());

        Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Single, 3), new VectorDataViewType(NumberDataViewType.Single, 3));
        Assert.AreNotEqual(new VectorDataViewType(NumberDataViewType.Single, 3), new VectorDataViewType(NumberDataViewType.Single, 4));
        Assert.AreNotEqual(new VectorDataViewType(NumberDataViewType.Single, 3), new VectorDataViewType(NumberDataViewType.Int32, 3));
        Assert.AreEqual(
            new VectorDataViewType(new KeyDataViewType(4), 2).GetHashCode(),
            new VectorDataViewType(new KeyDataViewType(4), 2).GetHashCode());
    }

    [TestMethod]
    public void NegativeDimensionThrows() =>
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new VectorDataViewType(NumberDataViewType.Single, 3, -1));
}
