using Tensorflow;

namespace Grid.Engines.TensorFlow.Checkpoint;

/// <summary>Shape helpers shared by the bundle reader and the slice code.</summary>
public static class TensorShapes
{
    /// <summary>Dimension sizes of a fully defined shape; throws <see cref="InvalidDataException"/> for unknown rank or dimensions.</summary>
    public static long[] Dims(TensorShapeProto? shape)
    {
        if (shape is null)
        {
            return [];
        }
        if (shape.UnknownRank)
        {
            throw new InvalidDataException("shape has unknown rank");
        }
        var dims = new long[shape.Dim.Count];
        for (var i = 0; i < dims.Length; i++)
        {
            dims[i] = shape.Dim[i].Size;
            if (dims[i] < 0)
            {
                throw new InvalidDataException($"dimension {i} is unknown ({dims[i]})");
            }
        }
        return dims;
    }

    /// <summary>Number of elements (1 for a scalar); throws <see cref="InvalidDataException"/> on overflow.</summary>
    public static long ElementCount(IReadOnlyList<long> dims)
    {
        long count = 1;
        try
        {
            foreach (var d in dims)
            {
                count = checked(count * d);
            }
        }
        catch (OverflowException)
        {
            throw new InvalidDataException($"shape {Format(dims)} has more elements than a long can count");
        }
        return count;
    }

    public static string Format(IReadOnlyList<long> dims) => "[" + string.Join(",", dims) + "]";
}
