using System.Buffers.Binary;
using System.Numerics;

namespace Grid.Engines.TensorFlow.Checkpoint;

/// <summary>
/// CRC-32C (Castagnoli), the checksum of LevelDB blocks and TensorBundle tensors, and the
/// "mask" both apply before storing a CRC (so a CRC of data that itself holds CRCs stays
/// meaningful). <see cref="BitOperations.Crc32C(uint, ulong)"/> uses the CPU's instruction
/// where there is one.
/// </summary>
public static class Crc32C
{
    private const uint MaskDelta = 0xa282ead8;

    /// <summary>The CRC-32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Extend(0, data);

    /// <summary>The CRC-32C of the bytes <paramref name="crc"/> covered followed by <paramref name="data"/>.</summary>
    public static uint Extend(uint crc, ReadOnlySpan<byte> data)
    {
        var state = ~crc;
        while (data.Length >= sizeof(ulong))
        {
            state = BitOperations.Crc32C(state, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[sizeof(ulong)..];
        }
        foreach (var b in data)
        {
            state = BitOperations.Crc32C(state, b);
        }
        return ~state;
    }

    /// <summary>TensorFlow's and LevelDB's stored form of a CRC: rotated right by 15 bits plus a constant.</summary>
    public static uint Mask(uint crc) => ((crc >> 15) | (crc << 17)) + MaskDelta;

    /// <summary>The inverse of <see cref="Mask"/>.</summary>
    public static uint Unmask(uint masked)
    {
        var rotated = masked - MaskDelta;
        return (rotated >> 17) | (rotated << 15);
    }
}
