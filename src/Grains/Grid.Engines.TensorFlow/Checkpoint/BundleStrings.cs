using System.Buffers.Binary;
using Grid.Serving;
using Tensorflow;

namespace Grid.Engines.TensorFlow.Checkpoint;

/// <summary>
/// TensorBundle's encoding of a DT_STRING tensor: every element's length as a varint64, then
/// a 4-byte masked CRC-32C of those lengths (each taken as a little-endian uint32), then the
/// elements' bytes. The entry's own CRC covers the lengths as uint32s, the length checksum and
/// the bytes. Both checksums are verified.
/// </summary>
internal static class BundleStrings
{
    public static IReadOnlyList<byte[]> Decode(byte[] stored, BundleEntryProto entry, string shardPath, string key)
    {
        try
        {
            return DecodeChecked(stored, entry, TensorShapes.ElementCount(TensorShapes.Dims(entry.Shape)));
        }
        catch (InvalidDataException e)
        {
            throw new ServingException(ServingStatusCode.DataLoss, $"Checkpoint file {shardPath} holds a corrupt string tensor '{key}': {e.Message}");
        }
    }

    private static byte[][] DecodeChecked(byte[] stored, BundleEntryProto entry, long count)
    {
        if (count > stored.Length)
        {
            throw new InvalidDataException($"{count} elements cannot fit in {stored.Length} bytes");
        }
        var lengths = new long[count];
        var position = 0;
        uint crc = 0;
        Span<byte> lengthBytes = stackalloc byte[sizeof(uint)];
        for (var i = 0; i < count; i++)
        {
            var length = Varint.Read64(stored, ref position);
            if (length > uint.MaxValue)
            {
                throw new InvalidDataException($"element {i} claims {length} bytes");
            }
            lengths[i] = (long)length;
            BinaryPrimitives.WriteUInt32LittleEndian(lengthBytes, (uint)length);
            crc = Crc32C.Extend(crc, lengthBytes);
        }
        if (stored.Length - position < sizeof(uint))
        {
            throw new InvalidDataException("it ends before the checksum of its lengths");
        }
        var lengthChecksum = stored.AsSpan(position, sizeof(uint));
        if (BinaryPrimitives.ReadUInt32LittleEndian(lengthChecksum) != Crc32C.Mask(crc))
        {
            throw new InvalidDataException("the checksum of its element lengths does not match");
        }
        crc = Crc32C.Extend(crc, lengthChecksum);
        position += sizeof(uint);

        var strings = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            if (lengths[i] > stored.Length - position)
            {
                throw new InvalidDataException($"element {i} ({lengths[i]} bytes) runs past the {stored.Length} stored bytes");
            }
            strings[i] = stored.AsSpan(position, (int)lengths[i]).ToArray();
            crc = Crc32C.Extend(crc, strings[i]);
            position += (int)lengths[i];
        }
        if (position != stored.Length)
        {
            throw new InvalidDataException($"{stored.Length - position} bytes follow the last element");
        }
        if (Crc32C.Mask(crc) != entry.Crc32C)
        {
            throw new InvalidDataException($"masked crc32c 0x{Crc32C.Mask(crc):x8} differs from the index's 0x{entry.Crc32C:x8}");
        }
        return strings;
    }
}
