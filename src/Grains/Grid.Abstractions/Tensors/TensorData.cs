using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Grid.Tensors;

/// <summary>
/// A protocol-neutral tensor: dtype, shape and raw row-major little-endian bytes.
/// </summary>
/// <remarks>
/// Immutable by contract: nobody mutates <see cref="Data"/> or <see cref="Shape"/> after
/// construction, which is what lets Orleans pass it between co-hosted grains by reference
/// instead of deep-copying the payload. String tensors (<see cref="TensorDType.String"/>)
/// store each element as a 4-byte little-endian length followed by its bytes.
/// </remarks>
[GenerateSerializer, Immutable, Alias("grid.TensorData")]
public sealed record TensorData(
    [property: Id(0)] TensorDType DType,
    [property: Id(1)] long[] Shape,
    [property: Id(2)] byte[] Data)
{
    /// <summary>Number of elements the shape describes (1 for a scalar).</summary>
    public long ElementCount => CountElements(Shape);

    public static long CountElements(ReadOnlySpan<long> shape)
    {
        long n = 1;
        foreach (var d in shape)
        {
            n = checked(n * d);
        }
        return n;
    }

    /// <summary>Element bytes reinterpreted as <typeparamref name="T"/>; no copy.</summary>
    public ReadOnlySpan<T> AsSpan<T>() where T : unmanaged => MemoryMarshal.Cast<byte, T>(Data);

    public static TensorData FromSpan<T>(TensorDType dtype, long[] shape, ReadOnlySpan<T> values) where T : unmanaged
        => new(dtype, shape, MemoryMarshal.AsBytes(values).ToArray());

    public static TensorData FromFloats(long[] shape, ReadOnlySpan<float> values) => FromSpan(TensorDType.Float, shape, values);

    /// <summary>Builds a string tensor from raw (not necessarily UTF-8) element bytes.</summary>
    public static TensorData FromStrings(long[] shape, IReadOnlyList<byte[]> values)
    {
        var size = 0;
        foreach (var v in values)
        {
            size = checked(size + 4 + v.Length);
        }
        var data = new byte[size];
        var offset = 0;
        foreach (var v in values)
        {
            BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(offset), v.Length);
            v.CopyTo(data, offset + 4);
            offset += 4 + v.Length;
        }
        return new TensorData(TensorDType.String, shape, data);
    }

    /// <summary>The elements of a string tensor as byte slices of <see cref="Data"/>.</summary>
    public List<ReadOnlyMemory<byte>> ReadStrings()
    {
        if (DType != TensorDType.String)
        {
            throw new InvalidOperationException($"Tensor of {DType.TfName()} is not a string tensor.");
        }
        var result = new List<ReadOnlyMemory<byte>>();
        var offset = 0;
        while (offset < Data.Length)
        {
            if (offset + 4 > Data.Length)
            {
                throw new FormatException("Truncated string tensor encoding.");
            }
            var length = BinaryPrimitives.ReadInt32LittleEndian(Data.AsSpan(offset));
            if (length < 0 || offset + 4 + length > Data.Length)
            {
                throw new FormatException("Truncated string tensor encoding.");
            }
            result.Add(new ReadOnlyMemory<byte>(Data, offset + 4, length));
            offset += 4 + length;
        }
        return result;
    }

    /// <summary>Shape as TensorFlow prints it, e.g. <c>[2,784]</c>.</summary>
    public static string FormatShape(IEnumerable<long>? shape) => shape is null ? "<unknown>" : "[" + string.Join(",", shape) + "]";
}

/// <summary>A tensor bound to its signature alias.</summary>
[GenerateSerializer, Immutable, Alias("grid.NamedTensor")]
public sealed record NamedTensor([property: Id(0)] string Name, [property: Id(1)] TensorData Tensor);
