using System.Text;
using Google.Protobuf;
using Grid.Serving;
using Microsoft.Win32.SafeHandles;
using Tensorflow;

namespace Grid.Engines.TensorFlow.Checkpoint;

/// <summary>
/// A TensorBundle (V2) checkpoint: <c>PREFIX.index</c>, a LevelDB table whose entry "" is the
/// <see cref="BundleHeaderProto"/> and whose other entries are <see cref="BundleEntryProto"/>s,
/// and the shards <c>PREFIX.data-NNNNN-of-MMMMM</c> holding the tensors' bytes. Opening checks
/// the index (see <see cref="SortedTable"/>), the header and that every shard exists; each
/// <see cref="Read"/> checks bounds and the tensor's CRC-32C. Failures are
/// <see cref="ServingException"/>s naming the file and the tensor key.
/// </summary>
public sealed class TensorBundle
{
    /// <summary>The TensorBundle format version this reader implements.</summary>
    private const int ReaderVersion = 1;

    private readonly SortedTable _index;
    private readonly Dictionary<string, BundleEntryProto> _entries;

    private TensorBundle(string prefix, SortedTable index, BundleHeaderProto header, Dictionary<string, BundleEntryProto> entries)
    {
        Prefix = prefix;
        _index = index;
        Header = header;
        _entries = entries;
    }

    /// <summary>The path without <c>.index</c> / <c>.data-…</c>, e.g. <c>…/variables/variables</c>.</summary>
    public string Prefix { get; }

    public string IndexPath => _index.Path;

    public BundleHeaderProto Header { get; }

    /// <summary>Keys of the stored tensors (slice entries of partitioned tensors are not listed; their full tensor is).</summary>
    public IReadOnlyCollection<string> Keys => _entries.Keys;

    /// <summary>Opens the bundle at <paramref name="prefix"/> (the SavedModel's <c>variables/variables</c>).</summary>
    public static TensorBundle Open(string prefix)
    {
        var index = SortedTable.Read(prefix + ".index");
        var entries = new Dictionary<string, BundleEntryProto>(StringComparer.Ordinal);
        BundleHeaderProto? header = null;
        foreach (var entry in index.Entries)
        {
            if (entry.Key.Length == 0)
            {
                header = Parse(BundleHeaderProto.Parser, entry.Value, index.Path, "the header (key \"\")");
            }
            else if (entry.Key[0] != 0)
            {
                var key = Encoding.UTF8.GetString(entry.Key);
                entries[key] = Parse(BundleEntryProto.Parser, entry.Value, index.Path, $"tensor '{key}'");
            }
        }
        if (header is null)
        {
            throw DataLoss(index.Path, "has no header entry (key \"\")");
        }
        CheckHeader(header, index.Path);
        for (var shard = 0; shard < header.NumShards; shard++)
        {
            var path = ShardPath(prefix, shard, header.NumShards);
            if (!File.Exists(path))
            {
                throw ServingException.NotFound($"Checkpoint shard {path} does not exist ({index.Path} names {header.NumShards} shards)");
            }
        }
        return new TensorBundle(prefix, index, header, entries);
    }

    public bool Contains(string key) => _entries.ContainsKey(key);

    /// <summary>The index entry of <paramref name="key"/>; NOT_FOUND when the checkpoint has none.</summary>
    public BundleEntryProto GetEntry(string key) =>
        _entries.TryGetValue(key, out var entry)
            ? entry
            : throw ServingException.NotFound($"Checkpoint {IndexPath} has no tensor '{key}'");

    /// <summary>Reads and verifies the tensor stored under <paramref name="key"/>, assembling partitioned tensors from their slices.</summary>
    public CheckpointTensor Read(string key)
    {
        var entry = GetEntry(key);
        var shape = Dims(entry.Shape, key);
        if (entry.Slices.Count > 0)
        {
            return ReadSliced(key, entry, shape);
        }
        if (entry.Dtype == DataType.DtString)
        {
            return new CheckpointTensor(key, entry.Dtype, shape, ReadOnlyMemory<byte>.Empty, BundleStrings.Decode(ReadStored(entry, key), entry, ShardPath(entry), key));
        }
        return new CheckpointTensor(key, entry.Dtype, shape, ReadNumeric(entry, key, shape));
    }

    internal static string ShardPath(string prefix, int shard, int shardCount) =>
        $"{prefix}.data-{shard:D5}-of-{shardCount:D5}";

    private string ShardPath(BundleEntryProto entry) => ShardPath(Prefix, entry.ShardId, Header.NumShards);

    private byte[] ReadNumeric(BundleEntryProto entry, string key, long[] shape)
    {
        var elementSize = DataTypeSizes.TryOf(entry.Dtype)
            ?? throw ServingException.InvalidArgument($"Checkpoint {IndexPath}: tensor '{key}' has dtype {entry.Dtype}, which cannot be read as data");
        var expected = TensorShapes.ElementCount(shape) * elementSize;
        if (entry.Size != expected)
        {
            throw DataLoss(IndexPath, $"says tensor '{key}' ({entry.Dtype} {TensorShapes.Format(shape)}) takes {entry.Size} bytes, not {expected}");
        }
        var bytes = ReadStored(entry, key);
        var actual = Crc32C.Mask(Crc32C.Compute(bytes));
        if (actual != entry.Crc32C)
        {
            throw DataLoss(ShardPath(entry), $"fails the checksum of tensor '{key}' (masked crc32c 0x{actual:x8}, index says 0x{entry.Crc32C:x8})");
        }
        return bytes;
    }

    /// <summary>The entry's bytes exactly as stored in its shard.</summary>
    private byte[] ReadStored(BundleEntryProto entry, string key)
    {
        if (entry.ShardId < 0 || entry.ShardId >= Header.NumShards || entry.Offset < 0 || entry.Size < 0 || entry.Size > int.MaxValue)
        {
            throw DataLoss(IndexPath, $"has an impossible location for tensor '{key}' (shard {entry.ShardId}, offset {entry.Offset}, size {entry.Size})");
        }
        var path = ShardPath(entry);
        var bytes = new byte[entry.Size];
        using SafeFileHandle handle = OpenShard(path);
        var length = RandomAccess.GetLength(handle);
        if (entry.Offset + entry.Size > length)
        {
            throw DataLoss(path, $"is truncated: it holds {length} bytes, tensor '{key}' needs bytes {entry.Offset}..{entry.Offset + entry.Size}");
        }
        var read = 0;
        while (read < bytes.Length)
        {
            var n = RandomAccess.Read(handle, bytes.AsSpan(read), entry.Offset + read);
            if (n == 0)
            {
                throw DataLoss(path, $"ended while reading tensor '{key}'");
            }
            read += n;
        }
        return bytes;
    }

    private CheckpointTensor ReadSliced(string key, BundleEntryProto entry, long[] shape)
    {
        var elementSize = DataTypeSizes.TryOf(entry.Dtype)
            ?? throw ServingException.InvalidArgument($"Checkpoint {IndexPath}: partitioned tensor '{key}' has dtype {entry.Dtype}; only fixed-size dtypes can be assembled from slices");
        var full = new byte[TensorShapes.ElementCount(shape) * elementSize];
        long covered = 0;
        foreach (var sliceProto in entry.Slices)
        {
            var slice = TensorSlice.FromProto(sliceProto);
            var sliceKey = TensorSliceKey.Encode(key, slice);
            var value = _index.Find(sliceKey)
                ?? throw DataLoss(IndexPath, $"lists slice {slice} of tensor '{key}' but holds no entry for it");
            var sliceEntry = Parse(BundleEntryProto.Parser, value, IndexPath, $"slice {slice} of tensor '{key}'");
            var sliceName = $"{key} (slice {slice})";
            try
            {
                var sliceShape = slice.ShapeWithin(shape);
                if (sliceEntry.Dtype != entry.Dtype || !Dims(sliceEntry.Shape, sliceName).SequenceEqual(sliceShape))
                {
                    throw new InvalidDataException($"stores {sliceEntry.Dtype} {TensorShapes.Format(Dims(sliceEntry.Shape, sliceName))}, expected {entry.Dtype} {TensorShapes.Format(sliceShape)}");
                }
                slice.CopyIn(shape, elementSize, ReadNumeric(sliceEntry, sliceName, sliceShape), full);
                covered += TensorShapes.ElementCount(sliceShape);
            }
            catch (InvalidDataException e)
            {
                throw DataLoss(IndexPath, $"slice {slice} of tensor '{key}': {e.Message}");
            }
        }
        if (covered != TensorShapes.ElementCount(shape))
        {
            throw DataLoss(IndexPath, $"slices of tensor '{key}' cover {covered} of its {TensorShapes.ElementCount(shape)} elements");
        }
        return new CheckpointTensor(key, entry.Dtype, shape, full);
    }

    private long[] Dims(TensorShapeProto shape, string key)
    {
        try
        {
            return TensorShapes.Dims(shape);
        }
        catch (InvalidDataException e)
        {
            throw DataLoss(IndexPath, $"tensor '{key}': {e.Message}");
        }
    }

    private static void CheckHeader(BundleHeaderProto header, string path)
    {
        if (header.NumShards < 1)
        {
            throw DataLoss(path, $"header says {header.NumShards} shards");
        }
        if (header.Endianness != BundleHeaderProto.Types.Endianness.Little)
        {
            throw ServingException.InvalidArgument($"Checkpoint {path} was written big-endian; only little-endian checkpoints are supported");
        }
        var version = header.Version;
        if (version is not null && (version.MinConsumer > ReaderVersion || version.BadConsumers.Contains(ReaderVersion)))
        {
            throw ServingException.InvalidArgument($"Checkpoint {path} has TensorBundle version {version.Producer} (min consumer {version.MinConsumer}); this reader implements version {ReaderVersion}");
        }
    }

    private static SafeFileHandle OpenShard(string path)
    {
        try
        {
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw ServingException.NotFound($"Checkpoint shard {path} does not exist");
        }
    }

    private static T Parse<T>(MessageParser<T> parser, byte[] value, string path, string what) where T : IMessage<T>
    {
        try
        {
            return parser.ParseFrom(value);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw DataLoss(path, $"holds a corrupt entry for {what}: {e.Message}");
        }
    }

    internal static ServingException DataLoss(string path, string detail) =>
        new(ServingStatusCode.DataLoss, $"Checkpoint file {path} {detail}");
}
