namespace Grid.Engines.TensorFlow.Checkpoint;

/// <summary>
/// Little-endian base-128 varints as LevelDB and TensorBundle store lengths and offsets.
/// Malformed or truncated input throws <see cref="InvalidDataException"/>; callers that know
/// the file add its name.
/// </summary>
internal static class Varint
{
    /// <summary>Reads a varint of at most 64 bits at <paramref name="position"/> and advances it.</summary>
    public static ulong Read64(ReadOnlySpan<byte> data, ref int position)
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= data.Length)
            {
                throw new InvalidDataException($"varint runs past the end of the data at offset {position}");
            }
            var b = data[position++];
            result |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }
        throw new InvalidDataException($"varint longer than 10 bytes ending at offset {position}");
    }

    /// <summary>Reads a varint that must fit a non-negative <see cref="int"/> (a length or offset inside one buffer).</summary>
    public static int ReadInt32(ReadOnlySpan<byte> data, ref int position)
    {
        var start = position;
        var value = Read64(data, ref position);
        if (value > int.MaxValue)
        {
            throw new InvalidDataException($"varint at offset {start} is {value}, larger than any length this reader accepts");
        }
        return (int)value;
    }
}
