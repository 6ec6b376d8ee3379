using System.Buffers.Binary;
using Grid.Tensors;

namespace Grid.Serving.Batching;

/// <summary>
/// Concatenates requests along dimension 0 and splits a batch's outputs back, row-exact.
/// Pure. Inputs are in signature order and already validated: same dtype per position, and
/// (unless padding) the same inner dimensions, which <see cref="BatchKey"/> guarantees.
/// </summary>
public static class BatchAssembler
{
    /// <summary>The batch dimension of one request; every input must have rank ≥ 1 and agree.</summary>
    public static int RowCount(IReadOnlyList<NamedTensor> inputs)
    {
        long rows = -1;
        foreach (var input in inputs)
        {
            if (input.Tensor.Shape.Length == 0)
            {
                throw ServingException.InvalidArgument(
                    $"Batching session Run() input tensors must have at least one dimension; '{input.Name}' is a scalar");
            }
            var d0 = input.Tensor.Shape[0];
            if (rows >= 0 && d0 != rows)
            {
                throw ServingException.InvalidArgument(
                    $"Batching session Run() input tensors must have equal 0th-dimension size; '{input.Name}' has {d0}, others have {rows}");
            }
            rows = d0;
        }
        if (rows > int.MaxValue)
        {
            throw ServingException.InvalidArgument($"Batch dimension {rows} is too large");
        }
        return (int)Math.Max(rows, 0);
    }

    /// <summary>
    /// Concatenates one input position across <paramref name="parts"/> into a tensor of
    /// <paramref name="paddedRows"/> rows. Rows past the real ones repeat the first row, as TF
    /// Serving pads; with <paramref name="padInnerDimensions"/> each part's inner dimensions are
    /// first padded to the batch maximum with that part's first element.
    /// </summary>
    public static TensorData Concatenate(IReadOnlyList<TensorData> parts, int paddedRows, bool padInnerDimensions)
    {
        var first = parts[0];
        var inner = first.Shape[1..];
        if (padInnerDimensions)
        {
            inner = MaxInner(parts);
        }
        var realRows = 0L;
        foreach (var p in parts)
        {
            realRows += p.Shape[0];
        }
        if (realRows == 0)
        {
            throw ServingException.InvalidArgument("Cannot batch requests with no rows");
        }
        long[] shape = [paddedRows, .. inner];
        if (first.DType == TensorDType.String)
        {
            return ConcatenateStrings(parts, inner, paddedRows, shape);
        }
        var elementSize = first.DType.ElementSize();
        var rowBytes = checked((int)(TensorData.CountElements(inner) * elementSize));
        var data = new byte[checked(rowBytes * paddedRows)];
        var offset = 0;
        foreach (var part in parts)
        {
            var source = padInnerDimensions && !part.Shape.AsSpan(1).SequenceEqual(inner)
                ? PadInner(part, inner, elementSize)
                : part.Data;
            source.CopyTo(data, offset);
            offset += source.Length;
        }
        for (var row = (int)realRows; row < paddedRows; row++)
        {
            Buffer.BlockCopy(data, 0, data, row * rowBytes, rowBytes);
        }
        return new TensorData(first.DType, shape, data);
    }

    private static long[] MaxInner(IReadOnlyList<TensorData> parts)
    {
        var inner = parts[0].Shape[1..];
        foreach (var p in parts)
        {
            for (var i = 0; i < inner.Length; i++)
            {
                inner[i] = Math.Max(inner[i], p.Shape[i + 1]);
            }
        }
        return inner;
    }

    /// <summary>Pads every inner dimension of a numeric tensor to <paramref name="inner"/> with its first element.</summary>
    private static byte[] PadInner(TensorData part, long[] inner, int elementSize)
    {
        var rows = (int)part.Shape[0];
        var target = new byte[checked(rows * TensorData.CountElements(inner) * elementSize)];
        if (part.Data.Length >= elementSize)
        {
            // Fill with the first element, then copy the real elements over it.
            var firstElement = part.Data.AsSpan(0, elementSize);
            for (var o = 0; o < target.Length; o += elementSize)
            {
                firstElement.CopyTo(target.AsSpan(o));
            }
        }
        var sourceShape = part.Shape;
        var sourceIndex = new long[sourceShape.Length];
        var count = part.ElementCount;
        for (long e = 0; e < count; e++)
        {
            // Row-major index in the source, re-addressed in the padded shape.
            long t = 0;
            for (var d = 0; d < sourceShape.Length; d++)
            {
                var size = d == 0 ? rows : inner[d - 1];
                t = t * size + sourceIndex[d];
            }
            Buffer.BlockCopy(part.Data, (int)(e * elementSize), target, (int)(t * elementSize), elementSize);
            for (var d = sourceShape.Length - 1; d >= 0; d--)
            {
                if (++sourceIndex[d] < sourceShape[d])
                {
                    break;
                }
                sourceIndex[d] = 0;
            }
        }
        return target;
    }

    private static TensorData ConcatenateStrings(IReadOnlyList<TensorData> parts, long[] inner, int paddedRows, long[] shape)
    {
        var perRow = (int)TensorData.CountElements(inner);
        var realRows = 0;
        var size = 0;
        foreach (var p in parts)
        {
            realRows += (int)p.Shape[0];
            size += p.Data.Length;
        }
        var firstRowBytes = StringRowLength(parts[0].Data, perRow);
        var data = new byte[checked(size + (paddedRows - realRows) * firstRowBytes)];
        var offset = 0;
        foreach (var p in parts)
        {
            p.Data.CopyTo(data, offset);
            offset += p.Data.Length;
        }
        for (var row = realRows; row < paddedRows; row++)
        {
            Buffer.BlockCopy(data, 0, data, offset, firstRowBytes);
            offset += firstRowBytes;
        }
        return new TensorData(TensorDType.String, shape, data);
    }

    /// <summary>Bytes taken by the first <paramref name="elements"/> length-prefixed strings.</summary>
    private static int StringRowLength(ReadOnlySpan<byte> data, int elements)
    {
        var offset = 0;
        for (var i = 0; i < elements; i++)
        {
            offset += 4 + BinaryPrimitives.ReadInt32LittleEndian(data[offset..]);
        }
        return offset;
    }

    /// <summary>
    /// Splits one batched output into the rows each request owns, dropping padding rows.
    /// <paramref name="rowCounts"/> are the requests' row counts in batch order.
    /// </summary>
    public static TensorData[] Split(string alias, TensorData output, IReadOnlyList<int> rowCounts, int paddedRows)
    {
        if (output.Shape.Length == 0 || output.Shape[0] != paddedRows)
        {
            throw new ServingException(ServingStatusCode.Internal,
                $"Batched output tensor '{alias}' has shape {TensorData.FormatShape(output.Shape)}, but its 0th dimension must equal the batch size {paddedRows}; this model cannot be served with batching");
        }
        var result = new TensorData[rowCounts.Count];
        if (rowCounts.Count == 1 && rowCounts[0] == paddedRows)
        {
            result[0] = output;
            return result;
        }
        var inner = output.Shape[1..];
        if (output.DType == TensorDType.String)
        {
            var perRow = (int)TensorData.CountElements(inner);
            var offset = 0;
            for (var i = 0; i < rowCounts.Count; i++)
            {
                var length = StringRowLength(output.Data.AsSpan(offset), rowCounts[i] * perRow);
                result[i] = new TensorData(output.DType, [rowCounts[i], .. inner], output.Data.AsSpan(offset, length).ToArray());
                offset += length;
            }
            return result;
        }
        var rowBytes = (int)(TensorData.CountElements(inner) * output.DType.ElementSize());
        var at = 0;
        for (var i = 0; i < rowCounts.Count; i++)
        {
            var bytes = rowCounts[i] * rowBytes;
            result[i] = new TensorData(output.DType, [rowCounts[i], .. inner], output.Data.AsSpan(at, bytes).ToArray());
            at += bytes;
        }
        return result;
    }

    /// <summary>Joins the pieces of a split request back together along dimension 0.</summary>
    public static TensorData Join(IReadOnlyList<TensorData> pieces)
    {
        if (pieces.Count == 1)
        {
            return pieces[0];
        }
        long rows = 0;
        var size = 0;
        foreach (var p in pieces)
        {
            rows += p.Shape[0];
            size += p.Data.Length;
        }
        var data = new byte[size];
        var offset = 0;
        foreach (var p in pieces)
        {
            p.Data.CopyTo(data, offset);
            offset += p.Data.Length;
        }
        return new TensorData(pieces[0].DType, [rows, .. pieces[0].Shape[1..]], data);
    }

    /// <summary>Rows [<paramref name="start"/>, start+count) of a request's input.</summary>
    public static TensorData Slice(TensorData tensor, int start, int count)
    {
        var inner = tensor.Shape[1..];
        if (tensor.DType == TensorDType.String)
        {
            var perRow = (int)TensorData.CountElements(inner);
            var begin = StringRowLength(tensor.Data, start * perRow);
            var length = StringRowLength(tensor.Data.AsSpan(begin), count * perRow);
            return new TensorData(tensor.DType, [count, .. inner], tensor.Data.AsSpan(begin, length).ToArray());
        }
        var rowBytes = (int)(TensorData.CountElements(inner) * tensor.DType.ElementSize());
        return new TensorData(tensor.DType, [count, .. inner], tensor.Data.AsSpan(start * rowBytes, count * rowBytes).ToArray());
    }
}
