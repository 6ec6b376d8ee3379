using System.Globalization;
using Tensorflow;

namespace Grid.Engines.TensorFlow.Checkpoint;

/// <summary>
/// A hyper-rectangle of a tensor: per dimension a start and a length, a null length meaning the
/// whole dimension. Partitioned variables are saved and restored as such slices; this type
/// parses TensorFlow's two notations (<see cref="TensorSliceProto"/> and the text
/// <c>"0,3:-"</c> of RestoreV2's <c>shape_and_slices</c>) and copies a slice's elements out
/// of, or into, the full tensor.
/// </summary>
public sealed class TensorSlice
{
    public TensorSlice(IReadOnlyList<(long Start, long? Length)> extents)
    {
        Extents = extents;
    }

    public IReadOnlyList<(long Start, long? Length)> Extents { get; }

    public int Rank => Extents.Count;

    public static TensorSlice FromProto(TensorSliceProto proto) =>
        new(proto.Extent.Select(e => (e.Start, e.HasLength ? e.Length : (long?)null)).ToArray());

    /// <summary>
    /// Parses one <c>shape_and_slices</c> element: empty for the whole tensor (returns null),
    /// else the full shape's dimensions and the slice, space-separated, e.g. <c>"3 10 0,3:0,10"</c>.
    /// </summary>
    public static (long[] FullShape, TensorSlice Slice)? ParseShapeAndSlice(string spec)
    {
        if (spec.Length == 0)
        {
            return null;
        }
        var parts = spec.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 2)
        {
            throw new InvalidDataException($"shape_and_slice '{spec}' has no slice part");
        }
        var shape = parts[..^1].Select(p => ParseLong(p, spec)).ToArray();
        var slice = Parse(parts[^1], spec);
        if (slice.Rank != shape.Length)
        {
            throw new InvalidDataException($"shape_and_slice '{spec}': slice rank {slice.Rank} differs from shape rank {shape.Length}");
        }
        return (shape, slice);
    }

    /// <summary>The slice's shape inside a tensor of <paramref name="fullShape"/>; throws when it does not fit.</summary>
    public long[] ShapeWithin(IReadOnlyList<long> fullShape)
    {
        if (fullShape.Count != Rank)
        {
            throw new InvalidDataException($"slice of rank {Rank} applied to shape {TensorShapes.Format(fullShape)}");
        }
        var shape = new long[Rank];
        for (var d = 0; d < Rank; d++)
        {
            var (start, length) = Extents[d];
            shape[d] = length ?? fullShape[d];
            if (start < 0 || shape[d] < 0 || start + shape[d] > fullShape[d] || (length is null && start != 0))
            {
                throw new InvalidDataException($"slice {this} does not fit shape {TensorShapes.Format(fullShape)}");
            }
        }
        return shape;
    }

    /// <summary>Copies this slice's elements from <paramref name="full"/> (row-major, shape <paramref name="fullShape"/>) into <paramref name="slice"/>.</summary>
    public void CopyOut(IReadOnlyList<long> fullShape, int elementSize, ReadOnlySpan<byte> full, Span<byte> slice)
    {
        var sliceShape = ShapeWithin(fullShape);
        CheckLengths(fullShape, sliceShape, elementSize, full.Length, slice.Length);
        foreach (var (fullOffset, sliceOffset, bytes) in Runs(fullShape, sliceShape, elementSize))
        {
            full.Slice(fullOffset, bytes).CopyTo(slice.Slice(sliceOffset, bytes));
        }
    }

    /// <summary>Copies <paramref name="slice"/>'s elements into their place in <paramref name="full"/>.</summary>
    public void CopyIn(IReadOnlyList<long> fullShape, int elementSize, ReadOnlySpan<byte> slice, Span<byte> full)
    {
        var sliceShape = ShapeWithin(fullShape);
        CheckLengths(fullShape, sliceShape, elementSize, full.Length, slice.Length);
        foreach (var (fullOffset, sliceOffset, bytes) in Runs(fullShape, sliceShape, elementSize))
        {
            slice.Slice(sliceOffset, bytes).CopyTo(full.Slice(fullOffset, bytes));
        }
    }

    public override string ToString() =>
        string.Join(":", Extents.Select(e => e.Length is { } l ? $"{e.Start},{l}" : "-"));

    private static void CheckLengths(IReadOnlyList<long> fullShape, long[] sliceShape, int elementSize, int fullLength, int sliceLength)
    {
        if (TensorShapes.ElementCount(fullShape) * elementSize != fullLength || TensorShapes.ElementCount(sliceShape) * elementSize != sliceLength)
        {
            throw new InvalidDataException("slice copy buffers do not match their shapes");
        }
    }

    /// <summary>The contiguous runs (one per index of every dimension but the last) a slice copy moves.</summary>
    private IEnumerable<(int FullOffset, int SliceOffset, int Bytes)> Runs(IReadOnlyList<long> fullShape, long[] sliceShape, int elementSize)
    {
        if (TensorShapes.ElementCount(sliceShape) == 0)
        {
            yield break;
        }
        if (Rank == 0)
        {
            yield return (0, 0, elementSize);
            yield break;
        }
        var strides = new long[Rank];
        strides[Rank - 1] = 1;
        for (var d = Rank - 2; d >= 0; d--)
        {
            strides[d] = strides[d + 1] * fullShape[d + 1];
        }
        var index = new long[Rank - 1];
        var runBytes = (int)(sliceShape[Rank - 1] * elementSize);
        var sliceOffset = 0;
        while (true)
        {
            long fullElement = Extents[Rank - 1].Start;
            for (var d = 0; d < Rank - 1; d++)
            {
                fullElement += (Extents[d].Start + index[d]) * strides[d];
            }
            yield return ((int)(fullElement * elementSize), sliceOffset, runBytes);
            sliceOffset += runBytes;
            var dim = Rank - 2;
            while (dim >= 0 && ++index[dim] == sliceShape[dim])
            {
                index[dim] = 0;
                dim--;
            }
            if (dim < 0)
            {
                yield break;
            }
        }
    }

    private static TensorSlice Parse(string text, string spec)
    {
        var extents = new List<(long, long?)>();
        foreach (var part in text.Split(':'))
        {
            if (part == "-")
            {
                extents.Add((0, null));
                continue;
            }
            var pair = part.Split(',');
            if (pair.Length != 2)
            {
                throw new InvalidDataException($"slice '{text}' in '{spec}' is not start,length pairs");
            }
            extents.Add((ParseLong(pair[0], spec), ParseLong(pair[1], spec)));
        }
        return new TensorSlice(extents);
    }

    private static long ParseLong(string text, string spec) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new InvalidDataException($"'{text}' in shape_and_slice '{spec}' is not a number");
}
