using Grid.Models;
using Grid.Tensors;

namespace Grid.Serving.Batching;

/// <summary>
/// What requests must share to be merged into one engine call: the signature, the output
/// aliases in order, and per input its dtype and inner dimensions (only the rank when inner
/// dimensions are padded, except for strings, which are never padded). Value equality.
/// </summary>
public sealed class BatchKey : IEquatable<BatchKey>
{
    private readonly long[][] _inner;
    private readonly TensorDType[] _dtypes;
    private readonly int _hash;

    private BatchKey(ModelSignature signature, string[] outputAliases, TensorDType[] dtypes, long[][] inner)
    {
        Signature = signature;
        OutputAliases = outputAliases;
        _dtypes = dtypes;
        _inner = inner;
        var hash = new HashCode();
        hash.Add(signature.Key, StringComparer.Ordinal);
        foreach (var a in outputAliases)
        {
            hash.Add(a, StringComparer.Ordinal);
        }
        for (var i = 0; i < dtypes.Length; i++)
        {
            hash.Add(dtypes[i]);
            hash.Add(inner[i].Length);
            foreach (var d in inner[i])
            {
                hash.Add(d);
            }
        }
        _hash = hash.ToHashCode();
    }

    public ModelSignature Signature { get; }

    public string[] OutputAliases { get; }

    /// <summary>
    /// The key of a validated request whose <paramref name="inputs"/> are in signature order.
    /// With <paramref name="padVariableLength"/>, numeric inputs keep only their rank (inner
    /// sizes become -1) so requests of different lengths can share a padded batch.
    /// </summary>
    public static BatchKey For(ModelSignature signature, IReadOnlyList<NamedTensor> inputs, string[] outputAliases, bool padVariableLength)
    {
        var dtypes = new TensorDType[inputs.Count];
        var inner = new long[inputs.Count][];
        for (var i = 0; i < inputs.Count; i++)
        {
            var t = inputs[i].Tensor;
            dtypes[i] = t.DType;
            inner[i] = padVariableLength && t.DType != TensorDType.String
                ? Enumerable.Repeat(-1L, t.Shape.Length - 1).ToArray()
                : t.Shape[1..];
        }
        return new BatchKey(signature, outputAliases, dtypes, inner);
    }

    public bool Equals(BatchKey? other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }
        if (other is null || other._hash != _hash || other.Signature.Key != Signature.Key
            || !other.OutputAliases.AsSpan().SequenceEqual(OutputAliases) || !other._dtypes.AsSpan().SequenceEqual(_dtypes))
        {
            return false;
        }
        for (var i = 0; i < _inner.Length; i++)
        {
            if (!_inner[i].AsSpan().SequenceEqual(other._inner[i]))
            {
                return false;
            }
        }
        return true;
    }

    public override bool Equals(object? obj) => Equals(obj as BatchKey);

    public override int GetHashCode() => _hash;
}
