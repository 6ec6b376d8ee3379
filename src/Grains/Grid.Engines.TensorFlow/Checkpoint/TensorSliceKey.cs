using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace Grid.Engines.TensorFlow.Checkpoint;

/// <summary>
/// The checkpoint key under which TensorBundle stores one slice of a partitioned tensor:
/// TensorFlow's order-preserving encoding ("ordered code") of 0, the tensor's name, the slice's
/// rank, then each dimension's start and length (-1 for a whole dimension). Such keys begin with
/// a zero byte, so they never collide with tensor names.
/// </summary>
public static class TensorSliceKey
{
    public static byte[] Encode(string name, TensorSlice slice)
    {
        var key = new List<byte>();
        WriteUnsigned(key, 0);
        WriteString(key, Encoding.UTF8.GetBytes(name));
        WriteUnsigned(key, (ulong)slice.Rank);
        foreach (var (start, length) in slice.Extents)
        {
            WriteSigned(key, start);
            WriteSigned(key, length ?? -1);
        }
        return key.ToArray();
    }

    /// <summary>A byte count, then the value's big-endian bytes without leading zeros (0 is the single byte 0).</summary>
    internal static void WriteUnsigned(List<byte> output, ulong value)
    {
        var length = (64 - BitOperations.LeadingZeroCount(value) + 7) / 8;
        output.Add((byte)length);
        for (var i = length - 1; i >= 0; i--)
        {
            output.Add((byte)(value >> (8 * i)));
        }
    }

    /// <summary>The bytes with 0x00 written as 0x00 0xFF and 0xFF as 0xFF 0x00, then the terminator 0x00 0x01.</summary>
    internal static void WriteString(List<byte> output, ReadOnlySpan<byte> value)
    {
        foreach (var b in value)
        {
            output.Add(b);
            if (b == 0x00)
            {
                output.Add(0xFF);
            }
            else if (b == 0xFF)
            {
                output.Add(0x00);
            }
        }
        output.Add(0x00);
        output.Add(0x01);
    }

    /// <summary>
    /// A signed number in <c>n</c> bytes: the two's complement value, sign-extended, whose first
    /// <c>n</c> bits (one bit for n = 1, …, ten for n = 10) are flipped from the sign, followed
    /// by a bit equal to the sign. <c>n</c> is the fewest bytes that leave room for the value's
    /// magnitude bits plus that header: |x| &lt; 2^(7n - 1).
    /// </summary>
    internal static void WriteSigned(List<byte> output, long value)
    {
        var magnitude = value < 0 ? ~(ulong)value : (ulong)value;
        var bits = 64 - BitOperations.LeadingZeroCount(magnitude);
        var length = Math.Max(1, (bits + 1 + 6) / 7);
        Span<byte> buffer = stackalloc byte[10];
        buffer[0] = buffer[1] = value < 0 ? (byte)0xFF : (byte)0x00;
        BinaryPrimitives.WriteInt64BigEndian(buffer[2..], value);
        var encoded = buffer[(10 - length)..];
        // The header: `length` bits, flipping the sign-extended leading bits.
        for (var bit = 0; bit < length; bit++)
        {
            encoded[bit / 8] ^= (byte)(0x80 >> (bit % 8));
        }
        foreach (var b in encoded)
        {
            output.Add(b);
        }
    }
}
