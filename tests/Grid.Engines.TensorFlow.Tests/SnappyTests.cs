using System.Text;
using Grid.Engines.TensorFlow.Checkpoint;

namespace Grid.Engines.TensorFlow.Tests;

public sealed class SnappyTests
{
    [Fact]
    public void Decompress_LiteralAndOneByteOffsetCopy_RepeatsPattern()
    {
        // 12 bytes: literal "abcd", then copy (1-byte offset form) of 8 bytes from 4 back.
        byte[] stream = [12, (4 - 1) << 2, (byte)'a', (byte)'b', (byte)'c', (byte)'d', ((8 - 4) << 2) | 1, 4];
        Assert.Equal("abcdabcdabcd", Encoding.ASCII.GetString(Snappy.Decompress(stream)));
    }

    [Fact]
    public void Decompress_TwoAndFourByteOffsetCopies_CopyFromFarBack()
    {
        // 70 literal bytes (length in one extra byte), then 2-byte and 4-byte offset copies.
        var literal = Enumerable.Range(0, 70).Select(i => (byte)i).ToArray();
        var stream = new List<byte> { 70 + 5 + 3, 60 << 2, 70 - 1 };
        stream.AddRange(literal);
        stream.AddRange([(5 - 1) << 2 | 2, 70, 0]);        // copy 5 bytes from 70 back: bytes 0..4
        stream.AddRange([(3 - 1) << 2 | 3, 10, 0, 0, 0]);  // copy 3 bytes from 10 back: bytes 65..67
        var output = Snappy.Decompress(stream.ToArray());
        Assert.Equal(literal, output[..70]);
        Assert.Equal(new byte[] { 0, 1, 2, 3, 4 }, output[70..75]);
        Assert.Equal(new byte[] { 65, 66, 67 }, output[75..]);
    }

    [Fact]
    public void Decompress_CopyBeforeStart_Throws()
    {
        byte[] stream = [8, 0, (byte)'a', ((7 - 4) << 2) | 1, 2];
        Assert.Throws<InvalidDataException>(() => Snappy.Decompress(stream));
    }

    [Fact]
    public void Decompress_ShorterThanDeclared_Throws()
    {
        byte[] stream = [5, (2 - 1) << 2, (byte)'a', (byte)'b'];
        Assert.Throws<InvalidDataException>(() => Snappy.Decompress(stream));
    }

    [Fact]
    public void Decompress_TruncatedLiteral_Throws()
    {
        byte[] stream = [4, (4 - 1) << 2, (byte)'a', (byte)'b'];
        Assert.Throws<InvalidDataException>(() => Snappy.Decompress(stream));
    }
}
