using Pipelines.Components.Serialization;

namespace Pipelines.Components.Tests.Serialization;

[TestClass]
public sealed class AtomicFileTests
{
    private static string TemporaryDirectory()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"pipelines-atomic-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        return directory;
    }

    [TestMethod]
    public void ReplacesTheFileWhenWritingSucceeds()
    {
        var directory = TemporaryDirectory();
        try
        {
            var path = Path.Combine(directory, "nested", "file.bin");
            AtomicFile.Write(path, stream => stream.Write([1, 2, 3]));
            AtomicFile.Write(path, stream => stream.Write([4, 5]));

            CollectionAssert.AreEqual(new byte[] { 4, 5 }, File.ReadAllBytes(path));
            Assert.HasCount(1, Directory.GetFiles(Path.GetDirectoryName(path)!));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public void KeepsThePreviousFileWhenWritingFails()
    {
        var directory = TemporaryDirectory();
        try
        {
            var path = Path.Combine(directory, "file.bin");
            File.WriteAllBytes(path, [9, 9]);

            Assert.ThrowsExactly<IOException>(() => AtomicFile.Write(path, stream =>
            {
                stream.Write([1, 2, 3]);
                throw new IOException("disk full");
            }));

            CollectionAssert.AreEqual(new byte[] { 9, 9 }, File.ReadAllBytes(path));
            Assert.HasCount(1, Directory.GetFiles(directory), "the temporary file is removed");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
