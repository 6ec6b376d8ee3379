using System.Buffers.Binary;

namespace Grid.Engines.TensorFlow.Checkpoint;

/// <summary>One key/value pair of a LevelDB table. Keys are bytes: TensorBundle's slice keys are binary.</summary>
public sealed record TableEntry(byte[] Key, byte[] Value);

/// <summary>
/// Parses the contents of one LevelDB block (after its trailer is checked and it is
/// decompressed): prefix-compressed entries (shared length, unshared length, value length as
/// varints, then the unshared key bytes and the value), followed by the restart offsets and
/// their count. Restart offsets must point at entries that share nothing with their
/// predecessor; anything else throws <see cref="InvalidDataException"/>.
/// </summary>
internal static class TableBlock
{
    public static List<TableEntry> Parse(ReadOnlySpan<byte> block)
    {
        if (block.Length < sizeof(uint))
        {
            throw new InvalidDataException($"block of {block.Length} bytes is too short to hold its restart count");
        }
        var restartCount = BinaryPrimitives.ReadUInt32LittleEndian(block[^sizeof(uint)..]);
        var maxRestarts = (block.Length - sizeof(uint)) / sizeof(uint);
        if (restartCount > maxRestarts)
        {
            throw new InvalidDataException($"block of {block.Length} bytes claims {restartCount} restart points");
        }
        var entriesEnd = block.Length - sizeof(uint) - ((int)restartCount * sizeof(uint));
        var restarts = new HashSet<int>();
        for (var i = 0; i < restartCount; i++)
        {
            restarts.Add((int)BinaryPrimitives.ReadUInt32LittleEndian(block.Slice(entriesEnd + (i * sizeof(uint)), sizeof(uint))));
        }

        var entries = new List<TableEntry>();
        var previousKey = Array.Empty<byte>();
        var position = 0;
        var restartsSeen = 0;
        while (position < entriesEnd)
        {
            var entryStart = position;
            var shared = Varint.ReadInt32(block, ref position);
            var unshared = Varint.ReadInt32(block, ref position);
            var valueLength = Varint.ReadInt32(block, ref position);
            if (shared > previousKey.Length)
            {
                throw new InvalidDataException($"entry at offset {entryStart} shares {shared} key bytes with a key of {previousKey.Length}");
            }
            if ((long)unshared + valueLength > entriesEnd - position)
            {
                throw new InvalidDataException($"entry at offset {entryStart} runs past the end of the block's entries");
            }
            if (restarts.Contains(entryStart))
            {
                if (shared != 0)
                {
                    throw new InvalidDataException($"restart point at offset {entryStart} shares {shared} key bytes");
                }
                restartsSeen++;
            }
            var key = new byte[shared + unshared];
            previousKey.AsSpan(0, shared).CopyTo(key);
            block.Slice(position, unshared).CopyTo(key.AsSpan(shared));
            position += unshared;
            var value = block.Slice(position, valueLength).ToArray();
            position += valueLength;
            entries.Add(new TableEntry(key, value));
            previousKey = key;
        }
        // An empty block (a table's empty metaindex) still records one restart, at offset 0.
        if (entries.Count > 0 && restartsSeen != restarts.Count)
        {
            throw new InvalidDataException($"block has {restarts.Count} restart points but only {restartsSeen} fall on entries");
        }
        return entries;
    }
}
