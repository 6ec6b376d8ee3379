using System.Buffers.Binary;

namespace Grid.Engines.TensorFlow.Checkpoint;

/// <summary>
/// Decompresses Snappy's raw block format (the compression LevelDB applies to table blocks):
/// a varint uncompressed length, then literals and back-references (copies) of 1, 2 or 4
/// offset bytes. Every length and offset is checked, so corrupt input throws
/// <see cref="InvalidDataException"/> instead of producing wrong bytes.
/// </summary>
public static class Snappy
{
    /// <summary>The uncompressed bytes of <paramref name="compressed"/>.</summary>
    public static byte[] Decompress(ReadOnlySpan<byte> compressed)
    {
        var position = 0;
        var declared = Varint.Read64(compressed, ref position);
        if (declared > int.MaxValue)
        {
            throw new InvalidDataException($"snappy block declares {declared} uncompressed bytes");
        }
        var output = new byte[(int)declared];
        var written = 0;
        while (position < compressed.Length)
        {
            var tag = compressed[position++];
            switch (tag & 3)
            {
                case 0:
                    written = Literal(compressed, ref position, tag, output, written);
                    break;
                case 1:
                {
                    var length = ((tag >> 2) & 7) + 4;
                    var offset = ((tag >> 5) << 8) | Take(compressed, ref position, 1)[0];
                    written = Copy(output, written, offset, length);
                    break;
                }
                case 2:
                {
                    var offset = BinaryPrimitives.ReadUInt16LittleEndian(Take(compressed, ref position, 2));
                    written = Copy(output, written, offset, (tag >> 2) + 1);
                    break;
                }
                default:
                {
                    var offset = BinaryPrimitives.ReadUInt32LittleEndian(Take(compressed, ref position, 4));
                    if (offset > int.MaxValue)
                    {
                        throw new InvalidDataException($"snappy copy offset {offset} is out of range");
                    }
                    written = Copy(output, written, (int)offset, (tag >> 2) + 1);
                    break;
                }
            }
        }
        if (written != output.Length)
        {
            throw new InvalidDataException($"snappy block declares {output.Length} uncompressed bytes but holds {written}");
        }
        return output;
    }

    private static int Literal(ReadOnlySpan<byte> compressed, ref int position, byte tag, byte[] output, int written)
    {
        long length = tag >> 2;
        if (length >= 60)
        {
            // 60..63: the length minus one follows in 1..4 little-endian bytes.
            var extra = Take(compressed, ref position, (int)length - 59);
            length = 0;
            for (var i = extra.Length - 1; i >= 0; i--)
            {
                length = (length << 8) | extra[i];
            }
        }
        length += 1;
        if (length > output.Length - written)
        {
            throw new InvalidDataException($"snappy literal of {length} bytes overruns the declared {output.Length} bytes");
        }
        Take(compressed, ref position, (int)length).CopyTo(output.AsSpan(written));
        return written + (int)length;
    }

    private static int Copy(byte[] output, int written, int offset, int length)
    {
        if (offset == 0 || offset > written)
        {
            throw new InvalidDataException($"snappy copy offset {offset} at output position {written} points outside the output");
        }
        if (length > output.Length - written)
        {
            throw new InvalidDataException($"snappy copy of {length} bytes overruns the declared {output.Length} bytes");
        }
        // Byte by byte: a copy may overlap the bytes it produces (offset < length repeats a pattern).
        for (var i = 0; i < length; i++)
        {
            output[written + i] = output[written + i - offset];
        }
        return written + length;
    }

    private static ReadOnlySpan<byte> Take(ReadOnlySpan<byte> data, ref int position, int count)
    {
        if (count > data.Length - position)
        {
            throw new InvalidDataException($"snappy data ends inside an element at offset {position}");
        }
        var slice = data.Slice(position, count);
        position += count;
        return slice;
    }
}
