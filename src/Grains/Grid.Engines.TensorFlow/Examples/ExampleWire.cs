namespace Grid.Engines.TensorFlow.Examples;

/// <summary>
/// Reads the tf.Example wire format the way TensorFlow's fast parser does
/// (example_proto_fast_parsing.cc): the <c>features</c> map entries of an example in the order
/// they appear, so concatenated examples (a context followed by an example) keep all their
/// entries, and unknown top-level fields are skipped. Each feature is left serialized until its
/// list is read with the dtype the spec expects. Allocation-free apart from the entry list.
/// </summary>
internal static class ExampleWire
{
    /// <summary>One <c>features</c> map entry: the key and the serialized <c>Feature</c>.</summary>
    internal readonly record struct Entry(int KeyStart, int KeyLength, int FeatureStart, int FeatureLength);

    /// <summary>The oneof of a serialized <c>Feature</c>, judged by its first byte as TensorFlow does.</summary>
    internal enum Kind { None, Bytes, Float, Int64, Unsupported }

    /// <summary>Collects the map entries of <paramref name="data"/>; false when it is not a well-formed Example.</summary>
    public static bool TryReadEntries(ReadOnlySpan<byte> data, List<Entry> entries)
    {
        var pos = 0;
        while (pos < data.Length)
        {
            if (data[pos] == 0x0A)
            {
                pos++;
                if (!TryReadLength(data, ref pos, out var length))
                {
                    return false;
                }
                if (!TryReadFeatures(data, pos, pos + length, entries))
                {
                    return false;
                }
                pos += length;
            }
            else if (!TrySkipField(data, ref pos))
            {
                return false;
            }
        }
        return true;
    }

    private static bool TryReadFeatures(ReadOnlySpan<byte> data, int pos, int end, List<Entry> entries)
    {
        while (pos < end)
        {
            if (data[pos] != 0x0A)
            {
                return false;
            }
            pos++;
            if (!TryReadLength(data[..end], ref pos, out var length))
            {
                return false;
            }
            var entryEnd = pos + length;
            int keyStart = 0, keyLength = 0, featureStart = 0, featureLength = 0;
            // Protobuf allows key and value in either order; TensorFlow reads exactly two fields.
            for (var n = 0; n < 2; n++)
            {
                if (pos >= entryEnd)
                {
                    return false;
                }
                var tag = data[pos++];
                if (tag is not (0x0A or 0x12) || !TryReadLength(data[..entryEnd], ref pos, out var fieldLength))
                {
                    return false;
                }
                if (tag == 0x0A)
                {
                    (keyStart, keyLength) = (pos, fieldLength);
                }
                else
                {
                    (featureStart, featureLength) = (pos, fieldLength);
                }
                pos += fieldLength;
            }
            if (pos != entryEnd)
            {
                return false;
            }
            entries.Add(new Entry(keyStart, keyLength, featureStart, featureLength));
        }
        return true;
    }

    /// <summary>Reads a varint length and checks that that many bytes follow.</summary>
    private static bool TryReadLength(ReadOnlySpan<byte> data, ref int pos, out int length)
    {
        length = 0;
        if (!TryReadVarint(data, ref pos, out var value) || value > (ulong)(data.Length - pos))
        {
            return false;
        }
        length = (int)value;
        return true;
    }

    public static bool TryReadVarint(ReadOnlySpan<byte> data, ref int pos, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (pos >= data.Length)
            {
                return false;
            }
            var b = data[pos++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Skips one field of any wire type but groups (which TensorFlow refuses too).</summary>
    private static bool TrySkipField(ReadOnlySpan<byte> data, ref int pos)
    {
        if (!TryReadVarint(data, ref pos, out var tag))
        {
            return false;
        }
        switch (tag & 7)
        {
            case 0:
                return TryReadVarint(data, ref pos, out _);
            case 1:
                pos += 8;
                return pos <= data.Length;
            case 2:
                if (!TryReadLength(data, ref pos, out var length))
                {
                    return false;
                }
                pos += length;
                return true;
            case 5:
                pos += 4;
                return pos <= data.Length;
            default:
                return false;
        }
    }

    public static Kind KindOf(ReadOnlySpan<byte> feature) => feature.IsEmpty
        ? Kind.None
        : feature[0] switch
        {
            0x0A => Kind.Bytes,
            0x12 => Kind.Float,
            0x1A => Kind.Int64,
            _ => Kind.Unsupported,
        };

    /// <summary>The list message inside a feature (after its oneof tag).</summary>
    private static bool TryOpenList(ReadOnlySpan<byte> feature, out ReadOnlySpan<byte> list)
    {
        list = default;
        var pos = 1;
        if (!TryReadLength(feature, ref pos, out var length))
        {
            return false;
        }
        list = feature.Slice(pos, length);
        return true;
    }

    public static bool TryReadBytesList(ReadOnlySpan<byte> feature, List<byte[]> values)
    {
        if (!TryOpenList(feature, out var list))
        {
            return false;
        }
        var pos = 0;
        while (pos < list.Length)
        {
            if (list[pos++] != 0x0A || !TryReadLength(list, ref pos, out var length))
            {
                return false;
            }
            values.Add(list.Slice(pos, length).ToArray());
            pos += length;
        }
        return true;
    }

    public static bool TryReadFloatList(ReadOnlySpan<byte> feature, List<float> values)
    {
        if (!TryOpenList(feature, out var list))
        {
            return false;
        }
        if (list.IsEmpty)
        {
            return true;
        }
        var pos = 0;
        if (list[0] == 0x0A)
        {
            // Packed: one run of little-endian floats.
            pos++;
            if (!TryReadLength(list, ref pos, out var length))
            {
                return false;
            }
            for (var i = 0; i + 4 <= length; i += 4)
            {
                values.Add(BitConverter.Int32BitsToSingle(System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(list[(pos + i)..])));
            }
            return true;
        }
        while (pos < list.Length)
        {
            if (list[pos++] != 0x0D || pos + 4 > list.Length)
            {
                return false;
            }
            values.Add(BitConverter.Int32BitsToSingle(System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(list[pos..])));
            pos += 4;
        }
        return true;
    }

    public static bool TryReadInt64List(ReadOnlySpan<byte> feature, List<long> values)
    {
        if (!TryOpenList(feature, out var list))
        {
            return false;
        }
        if (list.IsEmpty)
        {
            return true;
        }
        var pos = 0;
        if (list[0] == 0x0A)
        {
            pos++;
            if (!TryReadLength(list, ref pos, out var length))
            {
                return false;
            }
            var packed = list.Slice(pos, length);
            var p = 0;
            while (p < packed.Length)
            {
                if (!TryReadVarint(packed, ref p, out var v))
                {
                    return false;
                }
                values.Add((long)v);
            }
            return true;
        }
        while (pos < list.Length)
        {
            if (list[pos++] != 0x08 || !TryReadVarint(list, ref pos, out var v))
            {
                return false;
            }
            values.Add((long)v);
        }
        return true;
    }
}
