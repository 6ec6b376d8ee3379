using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Tensorflow;

namespace Grid.Engines.TensorFlow.Checkpoint;

/// <summary>
/// One tensor's value as read from a checkpoint: dtype, shape and either the row-major
/// little-endian element bytes (every fixed-size dtype) or, for DT_STRING, the elements' bytes.
/// Its checksum was verified when it was read; the converter can hand <see cref="Content"/>
/// to an ONNX initializer's raw data as it is.
/// </summary>
public sealed class CheckpointTensor
{
    public CheckpointTensor(string key, DataType dataType, IReadOnlyList<long> shape, ReadOnlyMemory<byte> content, IReadOnlyList<byte[]>? strings = null)
    {
        Key = key;
        DataType = dataType;
        Shape = shape;
        ElementCount = TensorShapes.ElementCount(shape);
        if (dataType == DataType.DtString)
        {
            Strings = strings ?? throw new ArgumentException("A DT_STRING tensor needs its strings.", nameof(strings));
            if (Strings.Count != ElementCount)
            {
                throw new ArgumentException($"{Strings.Count} strings for shape [{string.Join(",", shape)}].", nameof(strings));
            }
        }
        else
        {
            var elementSize = DataTypeSizes.Of(dataType);
            if (content.Length != ElementCount * elementSize)
            {
                throw new ArgumentException($"{content.Length} bytes for {ElementCount} elements of {dataType}.", nameof(content));
            }
            Strings = [];
        }
        Content = content;
    }

    /// <summary>The checkpoint key the value was read from (for a slice of a partitioned variable, the full variable's key).</summary>
    public string Key { get; }

    public DataType DataType { get; }

    public IReadOnlyList<long> Shape { get; }

    public long ElementCount { get; }

    /// <summary>Row-major little-endian element bytes; empty for DT_STRING.</summary>
    public ReadOnlyMemory<byte> Content { get; }

    /// <summary>DT_STRING elements in row-major order; empty for other dtypes.</summary>
    public IReadOnlyList<byte[]> Strings { get; }

    /// <summary>The elements as <typeparamref name="T"/>, which must have the dtype's element size (float for DT_FLOAT, long for DT_INT64, bool or byte for DT_BOOL…).</summary>
    public ReadOnlySpan<T> AsSpan<T>() where T : unmanaged
    {
        if (DataType == DataType.DtString || Unsafe.SizeOf<T>() != DataTypeSizes.Of(DataType))
        {
            throw new InvalidOperationException($"Tensor '{Key}' is {DataType}; it cannot be read as {typeof(T).Name}.");
        }
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("Checkpoint tensors are little-endian; this machine is not.");
        }
        return MemoryMarshal.Cast<byte, T>(Content.Span);
    }

    public override string ToString() => $"{Key}: {DataType} [{string.Join(",", Shape)}]";
}
