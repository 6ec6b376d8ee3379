using System.Buffers.Binary;
using Grid.Serving;

namespace Grid.Engines.TensorFlow.Checkpoint;

/// <summary>
/// A LevelDB table file (TensorBundle's <c>variables.index</c>) read whole into memory, its
/// entries in key order. Guarantees: the footer's magic is right, every block's masked CRC-32C
/// (over its stored bytes and compression type) matches, Snappy blocks decompress to their
/// declared size, and keys strictly increase. Any failure throws a
/// <see cref="ServingException"/> (DATA_LOSS, or NOT_FOUND for a missing file) naming the file.
/// </summary>
public sealed class SortedTable
{
    private const ulong Magic = 0xdb4775248b80fb57;
    private const int FooterLength = 48;
    private const int BlockTrailerLength = 5;

    private SortedTable(string path, IReadOnlyList<TableEntry> entries)
    {
        Path = path;
        Entries = entries;
    }

    public string Path { get; }

    /// <summary>All entries, keys in increasing byte order.</summary>
    public IReadOnlyList<TableEntry> Entries { get; }

    public static SortedTable Read(string path)
    {
        byte[] file;
        try
        {
            file = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw ServingException.NotFound($"Checkpoint index {path} does not exist");
        }
        try
        {
            return new SortedTable(path, ParseFile(file));
        }
        catch (InvalidDataException e)
        {
            throw new ServingException(ServingStatusCode.DataLoss, $"Checkpoint index {path} is truncated or corrupt: {e.Message}");
        }
    }

    /// <summary>The value stored under <paramref name="key"/>, or null.</summary>
    public byte[]? Find(ReadOnlySpan<byte> key)
    {
        int low = 0, high = Entries.Count - 1;
        while (low <= high)
        {
            var mid = low + ((high - low) / 2);
            var order = Entries[mid].Key.AsSpan().SequenceCompareTo(key);
            if (order == 0)
            {
                return Entries[mid].Value;
            }
            if (order < 0)
            {
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }
        return null;
    }

    private static List<TableEntry> ParseFile(byte[] file)
    {
        if (file.Length < FooterLength)
        {
            throw new InvalidDataException($"{file.Length} bytes is shorter than the {FooterLength}-byte table footer");
        }
        var footer = file.AsSpan(file.Length - FooterLength);
        if (BinaryPrimitives.ReadUInt64LittleEndian(footer[^8..]) != Magic)
        {
            throw new InvalidDataException("the footer does not end with the LevelDB table magic number");
        }
        var position = 0;
        var metaIndex = BlockHandle.Read(footer, ref position);
        var index = BlockHandle.Read(footer, ref position);
        var dataLimit = file.Length - FooterLength;
        ReadBlock(file, metaIndex, dataLimit, "metaindex block");

        var entries = new List<TableEntry>();
        foreach (var indexEntry in TableBlock.Parse(ReadBlock(file, index, dataLimit, "index block")))
        {
            var handlePosition = 0;
            var handle = BlockHandle.Read(indexEntry.Value, ref handlePosition);
            entries.AddRange(TableBlock.Parse(ReadBlock(file, handle, dataLimit, $"data block at offset {handle.Offset}")));
        }
        for (var i = 1; i < entries.Count; i++)
        {
            if (entries[i - 1].Key.AsSpan().SequenceCompareTo(entries[i].Key) >= 0)
            {
                throw new InvalidDataException($"keys are out of order at entry {i}");
            }
        }
        return entries;
    }

    /// <summary>Checks a block's trailer (compression type, masked CRC-32C) and returns its contents, decompressed.</summary>
    private static byte[] ReadBlock(byte[] file, BlockHandle handle, long limit, string what)
    {
        if (handle.Offset + handle.Size + BlockTrailerLength > limit)
        {
            throw new InvalidDataException($"{what} ({handle.Size} bytes at offset {handle.Offset}) runs past the end of the file");
        }
        var offset = (int)handle.Offset;
        var size = (int)handle.Size;
        var stored = file.AsSpan(offset, size);
        var type = file[offset + size];
        var expected = Crc32C.Unmask(BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(offset + size + 1, 4)));
        var actual = Crc32C.Compute(file.AsSpan(offset, size + 1));
        if (actual != expected)
        {
            throw new InvalidDataException($"{what} fails its checksum (crc32c 0x{actual:x8}, trailer says 0x{expected:x8})");
        }
        return type switch
        {
            0 => stored.ToArray(),
            1 => Snappy.Decompress(stored),
            _ => throw new InvalidDataException($"{what} has unknown compression type {type}"),
        };
    }

    /// <summary>LevelDB's pointer to a block: varint offset and size (without the 5-byte trailer).</summary>
    private readonly record struct BlockHandle(long Offset, long Size)
    {
        public static BlockHandle Read(ReadOnlySpan<byte> data, ref int position)
        {
            var offset = Varint.Read64(data, ref position);
            var size = Varint.Read64(data, ref position);
            if (offset > int.MaxValue || size > int.MaxValue)
            {
                throw new InvalidDataException($"block handle (offset {offset}, size {size}) is out of range");
            }
            return new BlockHandle((long)offset, (long)size);
        }
    }
}
