using Grid.Engines.TensorFlow.Checkpoint;

namespace Grid.Engines.TensorFlow.Tests;

public sealed class TensorSliceTests
{
    [Fact]
    public void ParseShapeAndSlice_PartitionSpec_ReturnsShapeAndExtents()
    {
        var (shape, slice) = TensorSlice.ParseShapeAndSlice("3 10 0,3:0,10")!.Value;
        Assert.Equal([3L, 10L], shape);
        Assert.Equal([(0L, (long?)3L), (0L, (long?)10L)], slice.Extents);
    }

    [Fact]
    public void ParseShapeAndSlice_Empty_MeansWholeTensor()
    {
        Assert.Null(TensorSlice.ParseShapeAndSlice(""));
    }

    [Fact]
    public void ParseShapeAndSlice_FullExtentDash_HasNoLength()
    {
        var (_, slice) = TensorSlice.ParseShapeAndSlice("4 2 2,2:-")!.Value;
        Assert.Equal([2L, 2L], slice.ShapeWithin([4, 2]));
        Assert.Null(slice.Extents[1].Length);
    }

    [Fact]
    public void ParseShapeAndSlice_RankMismatch_Throws()
    {
        Assert.Throws<InvalidDataException>(() => TensorSlice.ParseShapeAndSlice("4 2 0,1"));
    }

    [Fact]
    public void CopyOut_InnerRectangle_TakesRowMajorElements()
    {
        // 3x4 tensor 0..11; rows 1..2, columns 1..2 are 5,6,9,10.
        var full = Enumerable.Range(0, 12).Select(i => (byte)i).ToArray();
        var slice = new TensorSlice([(1, 2), (1, 2)]);
        var part = new byte[4];
        slice.CopyOut([3, 4], 1, full, part);
        Assert.Equal(new byte[] { 5, 6, 9, 10 }, part);

        var back = new byte[12];
        slice.CopyIn([3, 4], 1, part, back);
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0, 5, 6, 0, 0, 9, 10, 0 }, back);
    }

    [Fact]
    public void ShapeWithin_SliceOutsideTensor_Throws()
    {
        Assert.Throws<InvalidDataException>(() => new TensorSlice([(2, 3)]).ShapeWithin([4]));
    }

    [Fact]
    public void WriteSigned_ValuesInOrder_EncodeInByteOrder()
    {
        long[] values = [long.MinValue, -1L << 40, -70_000, -8193, -8192, -65, -64, -1, 0, 1, 63, 64, 8191, 8192, 70_000, 1L << 40, long.MaxValue];
        var encoded = values.Select(v =>
        {
            var bytes = new List<byte>();
            TensorSliceKey.WriteSigned(bytes, v);
            return bytes.ToArray();
        }).ToList();
        for (var i = 1; i < encoded.Count; i++)
        {
            Assert.True(encoded[i - 1].AsSpan().SequenceCompareTo(encoded[i]) < 0, $"{values[i - 1]} does not sort before {values[i]}");
        }
        Assert.Equal(new byte[] { 0x80 }, encoded[values.ToList().IndexOf(0)]);
        Assert.Equal(new byte[] { 0x7F }, encoded[values.ToList().IndexOf(-1)]);
        Assert.Equal(new byte[] { 0xC0, 0x40 }, encoded[values.ToList().IndexOf(64)]);
        Assert.Equal(10, encoded[^1].Length);
    }

    [Fact]
    public void Encode_NameAndSlice_FollowsOrderedCodeLayout()
    {
        var key = TensorSliceKey.Encode("a\0b", new TensorSlice([(1, 2), (0, null)]));
        byte[] expected =
        [
            0x00,                               // number 0
            (byte)'a', 0x00, 0xFF, (byte)'b',   // name, the zero byte escaped
            0x00, 0x01,                         // string terminator
            0x01, 0x02,                         // rank 2
            0x81, 0x82,                         // start 1, length 2
            0x80, 0x7F,                         // start 0, length -1 (whole dimension)
        ];
        Assert.Equal(expected, key);
    }
}
