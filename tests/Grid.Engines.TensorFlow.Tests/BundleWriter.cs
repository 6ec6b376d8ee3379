using System.Buffers.Binary;
using Google.Protobuf;
using Grid.Engines.TensorFlow.Checkpoint;
using Tensorflow;

namespace Grid.Engines.TensorFlow.Tests;

/// <summary>
/// Writes small TensorBundle checkpoints for tests: a one-data-block LevelDB table (raw or
/// Snappy-compressed, prefix-compressed keys with a restart every two entries) and its data
/// shards, with correct masked CRCs unless a test corrupts them afterwards. It covers what the
/// fixtures lack: partitioned tensors, multi-element string tensors, string tensors of several elements, Snappy data blocks with several restarts.
/// </summary>
internal sealed class BundleWriter
{
    private readonly SortedDictionary<byte[], byte[]> _entries = new(ByteOrder.Instance);
    private readonly MemoryStream[] _shards;

    public BundleWriter(int shardCount = 1)
    {
        _shards = Enumerable.Range(0, shardCount).Select(_ => new MemoryStream()).ToArray();
    }

    public void AddFloats(string key, long[] shape, float[] values, int shard = 0) =>
        AddEntry(Keys.Of(key), DataType.DtFloat, shape, values.SelectMany(BitConverter.GetBytes).ToArray(), shard);

    /// <summary>Stores a string tensor in TensorBundle's layout (varint lengths, masked CRC of the uint32 lengths, bytes).</summary>
    public void AddStrings(string key, long[] shape, byte[][] values)
    {
        var stored = new MemoryStream();
        uint crc = 0;
        foreach (var value in values)
        {
            WriteVarint(stored, (ulong)value.Length);
            var length = new byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)value.Length);
            crc = Crc32C.Extend(crc, length);
        }
        var lengthCrc = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(lengthCrc, Crc32C.Mask(crc));
        stored.Write(lengthCrc);
        crc = Crc32C.Extend(crc, lengthCrc);
        foreach (var value in values)
        {
            stored.Write(value);
            crc = Crc32C.Extend(crc, value);
        }
        AddEntry(Keys.Of(key), DataType.DtString, shape, stored.ToArray(), 0, Crc32C.Mask(crc));
    }

    /// <summary>Stores <paramref name="full"/> as the given slices under their slice keys, and the full tensor's entry listing them.</summary>
    public void AddSlicedFloats(string key, long[] fullShape, float[] full, params TensorSlice[] slices)
    {
        var fullBytes = full.SelectMany(BitConverter.GetBytes).ToArray();
        var entry = new BundleEntryProto { Dtype = DataType.DtFloat, Shape = Shape(fullShape) };
        foreach (var slice in slices)
        {
            var sliceShape = slice.ShapeWithin(fullShape);
            var bytes = new byte[TensorShapes.ElementCount(sliceShape) * sizeof(float)];
            slice.CopyOut(fullShape, sizeof(float), fullBytes, bytes);
            AddEntry(TensorSliceKey.Encode(key, slice), DataType.DtFloat, sliceShape, bytes, 0);
            var proto = new TensorSliceProto();
            foreach (var (start, length) in slice.Extents)
            {
                proto.Extent.Add(length is { } l ? new TensorSliceProto.Types.Extent { Start = start, Length = l } : new TensorSliceProto.Types.Extent());
            }
            entry.Slices.Add(proto);
        }
        _entries[Keys.Of(key)] = entry.ToByteArray();
    }

    /// <summary>Writes <c>PREFIX.index</c> and the shards; returns the index path.</summary>
    public string Write(string prefix, bool snappy = false)
    {
        var header = new BundleHeaderProto { NumShards = _shards.Length, Version = new VersionDef { Producer = 1 } };
        _entries[[]] = header.ToByteArray();
        for (var i = 0; i < _shards.Length; i++)
        {
            File.WriteAllBytes($"{prefix}.data-{i:D5}-of-{_shards.Length:D5}", _shards[i].ToArray());
        }
        var file = new MemoryStream();
        var data = WriteBlock(file, Block(_entries.ToList()), snappy);
        var metaIndex = WriteBlock(file, Block([]), snappy: false);
        var indexValue = new MemoryStream();
        WriteVarint(indexValue, data.Offset);
        WriteVarint(indexValue, data.Size);
        var index = WriteBlock(file, Block([new(_entries.Keys.Last(), indexValue.ToArray())]), snappy: false);
        var footer = new MemoryStream();
        foreach (var value in new[] { metaIndex.Offset, metaIndex.Size, index.Offset, index.Size })
        {
            WriteVarint(footer, value);
        }
        footer.SetLength(40);
        footer.Position = 40;
        footer.Write(BitConverter.GetBytes(0xdb4775248b80fb57UL));
        file.Write(footer.ToArray());
        File.WriteAllBytes(prefix + ".index", file.ToArray());
        return prefix + ".index";
    }

    private void AddEntry(byte[] key, DataType dtype, long[] shape, byte[] bytes, int shard, uint? crc = null)
    {
        var entry = new BundleEntryProto
        {
            Dtype = dtype,
            Shape = Shape(shape),
            ShardId = shard,
            Offset = _shards[shard].Length,
            Size = bytes.Length,
            Crc32C = crc ?? Crc32C.Mask(Crc32C.Compute(bytes)),
        };
        _shards[shard].Write(bytes);
        _entries[key] = entry.ToByteArray();
    }

    private static TensorShapeProto Shape(long[] dims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.AddRange(dims.Select(d => new TensorShapeProto.Types.Dim { Size = d }));
        return shape;
    }

    private static byte[] Block(List<KeyValuePair<byte[], byte[]>> entries)
    {
        var block = new MemoryStream();
        var restarts = new List<uint>();
        var previous = Array.Empty<byte>();
        for (var i = 0; i < entries.Count; i++)
        {
            var (key, value) = (entries[i].Key, entries[i].Value);
            var shared = 0;
            if (i % 2 == 0)
            {
                restarts.Add((uint)block.Length);
            }
            else
            {
                while (shared < Math.Min(key.Length, previous.Length) && key[shared] == previous[shared])
                {
                    shared++;
                }
            }
            WriteVarint(block, (ulong)shared);
            WriteVarint(block, (ulong)(key.Length - shared));
            WriteVarint(block, (ulong)value.Length);
            block.Write(key, shared, key.Length - shared);
            block.Write(value);
            previous = key;
        }
        if (restarts.Count == 0)
        {
            restarts.Add(0);
        }
        foreach (var restart in restarts)
        {
            block.Write(BitConverter.GetBytes(restart));
        }
        block.Write(BitConverter.GetBytes((uint)restarts.Count));
        return block.ToArray();
    }

    private static (ulong Offset, ulong Size) WriteBlock(MemoryStream file, byte[] contents, bool snappy)
    {
        var stored = snappy ? SnappyLiterals(contents) : contents;
        var offset = (ulong)file.Length;
        file.Write(stored);
        var type = (byte)(snappy ? 1 : 0);
        file.WriteByte(type);
        var crc = Crc32C.Mask(Crc32C.Extend(Crc32C.Compute(stored), [type]));
        file.Write(BitConverter.GetBytes(crc));
        return (offset, (ulong)stored.Length);
    }

    /// <summary>A valid Snappy stream of literals only (copies are covered by SnappyTests' hand-encoded streams).</summary>
    public static byte[] SnappyLiterals(byte[] data)
    {
        var output = new MemoryStream();
        WriteVarint(output, (ulong)data.Length);
        for (var position = 0; position < data.Length;)
        {
            var length = Math.Min(60, data.Length - position);
            output.WriteByte((byte)((length - 1) << 2));
            output.Write(data, position, length);
            position += length;
        }
        return output.ToArray();
    }

    internal static void WriteVarint(Stream stream, ulong value)
    {
        while (value >= 0x80)
        {
            stream.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        stream.WriteByte((byte)value);
    }

    private static class Keys
    {
        public static byte[] Of(string key) => System.Text.Encoding.UTF8.GetBytes(key);
    }

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
