using System.Text;
using Grid.Engines.TensorFlow.Checkpoint;
using Grid.Serving;
using Grid.Testing;

namespace Grid.Engines.TensorFlow.Tests;

public sealed class SortedTableTests
{
    private static string[] Keys(SortedTable table) => table.Entries.Select(e => Encoding.UTF8.GetString(e.Key)).ToArray();

    [Fact]
    public void Read_RawBlocksFixture_ListsHeaderAndVariables()
    {
        // tf1_mnist_softmax's index stores its data block uncompressed.
        var table = SortedTable.Read(Path.Combine(Fixture.SavedModel("tf1_mnist_softmax"), "variables", "variables.index"));
        Assert.Equal(["", "Variable", "Variable_1"], Keys(table));
    }

    [Fact]
    public void Read_SnappyBlockFixture_ListsHeaderAndVariables()
    {
        // saved_model_half_plus_two_cpu's index stores its data block Snappy-compressed.
        var table = SortedTable.Read(Path.Combine(Fixture.Serving("saved_model_half_plus_two_cpu"), "variables", "variables.index"));
        Assert.Equal(["", "a", "a2", "b", "c", "c2"], Keys(table));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Read_WrittenTable_ReturnsEveryEntryInOrderAndFindsThem(bool snappy)
    {
        using var temp = new TempDirectory();
        var writer = new BundleWriter();
        var names = new[] { "dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias", "embedding", "a" };
        foreach (var name in names)
        {
            writer.AddFloats(name, [1], [1f]);
        }
        var table = SortedTable.Read(writer.Write(temp.Combine("ckpt"), snappy));
        Assert.Equal(names.Append("").Order(StringComparer.Ordinal), Keys(table));
        Assert.NotNull(table.Find(Encoding.UTF8.GetBytes("dense_1/bias")));
        Assert.Null(table.Find(Encoding.UTF8.GetBytes("dense_1/bia")));
    }

    [Fact]
    public void Parse_EmptyBlockWithItsOneRestart_HasNoEntries()
    {
        byte[] block = [0, 0, 0, 0, 1, 0, 0, 0];
        Assert.Empty(TableBlock.Parse(block));
    }

    [Fact]
    public void Parse_RestartPointingIntoAnEntry_Throws()
    {
        // One entry (key "k", value "v") at offset 0, but the restart array claims offset 2.
        byte[] block = [0, 1, 1, (byte)'k', (byte)'v', 2, 0, 0, 0, 1, 0, 0, 0];
        Assert.Throws<InvalidDataException>(() => TableBlock.Parse(block));
    }

    [Fact]
    public void Read_FlippedByteInDataBlock_ThrowsDataLossNamingFile()
    {
        using var temp = new TempDirectory();
        var path = temp.WriteFile("variables.index", File.ReadAllBytes(Path.Combine(Fixture.SavedModel("tf1_mnist_softmax"), "variables", "variables.index")));
        var bytes = File.ReadAllBytes(path);
        bytes[10] ^= 0x40;
        File.WriteAllBytes(path, bytes);

        var error = Assert.Throws<ServingException>(() => SortedTable.Read(path));
        Assert.Equal(ServingStatusCode.DataLoss, error.Code);
        Assert.Contains(path, error.Message);
        Assert.Contains("checksum", error.Message);
    }

    [Fact]
    public void Read_TruncatedFile_ThrowsDataLossNamingFile()
    {
        using var temp = new TempDirectory();
        var original = File.ReadAllBytes(Path.Combine(Fixture.SavedModel("tf1_mnist_softmax"), "variables", "variables.index"));
        var path = temp.WriteFile("variables.index", original[..(original.Length - 20)]);

        var error = Assert.Throws<ServingException>(() => SortedTable.Read(path));
        Assert.Equal(ServingStatusCode.DataLoss, error.Code);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void Read_MissingFile_ThrowsNotFoundNamingFile()
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("variables.index");
        var error = Assert.Throws<ServingException>(() => SortedTable.Read(path));
        Assert.Equal(ServingStatusCode.NotFound, error.Code);
        Assert.Contains(path, error.Message);
    }
}
