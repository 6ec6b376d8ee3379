using System.Text;
using Grid.Models;
using Grid.Serving.Batching;
using Grid.Tensors;

namespace Grid.Serving.Tests.Batching;

public sealed class BatchAssemblerTests
{
    private static TensorData Floats(long[] shape, params float[] values) => TensorData.FromFloats(shape, values);

    private static TensorData Strings(long[] shape, params string[] values)
        => TensorData.FromStrings(shape, values.Select(Encoding.UTF8.GetBytes).ToArray());

    [Fact]
    public void Concatenate_TwoRequestsWithPadding_RepeatsFirstRowInPaddingRows()
    {
        var merged = BatchAssembler.Concatenate([Floats([1, 2], 1, 2), Floats([2, 2], 3, 4, 5, 6)], paddedRows: 4, padInnerDimensions: false);

        Assert.Equal([4L, 2], merged.Shape);
        Assert.Equal([1f, 2, 3, 4, 5, 6, 1, 2], merged.AsSpan<float>().ToArray());
    }

    [Fact]
    public void Concatenate_PadInnerDimensions_PadsEachPartWithItsFirstElement()
    {
        // TF Serving's worked example: [[1,2],[3,4]] and [[5,6,7]] batch to rows of length 3.
        var merged = BatchAssembler.Concatenate([Floats([2, 2], 1, 2, 3, 4), Floats([1, 3], 5, 6, 7)], paddedRows: 3, padInnerDimensions: true);

        Assert.Equal([3L, 3], merged.Shape);
        Assert.Equal([1f, 2, 1, 3, 4, 1, 5, 6, 7], merged.AsSpan<float>().ToArray());
    }

    [Fact]
    public void Concatenate_PadInnerRank3_KeepsRowMajorLayout()
    {
        var a = Floats([1, 1, 2], 9, 8);
        var b = Floats([1, 2, 3], 1, 2, 3, 4, 5, 6);

        var merged = BatchAssembler.Concatenate([a, b], paddedRows: 2, padInnerDimensions: true);

        Assert.Equal([2L, 2, 3], merged.Shape);
        Assert.Equal([9f, 8, 9, 9, 9, 9, 1, 2, 3, 4, 5, 6], merged.AsSpan<float>().ToArray());
    }

    [Fact]
    public void Concatenate_Strings_KeepsElementsAndPadsWithFirstRow()
    {
        var merged = BatchAssembler.Concatenate([Strings([1, 2], "a", "bc"), Strings([1, 2], "", "déf")], paddedRows: 3, padInnerDimensions: false);

        Assert.Equal([3L, 2], merged.Shape);
        Assert.Equal(["a", "bc", "", "déf", "a", "bc"], merged.ReadStrings().Select(s => Encoding.UTF8.GetString(s.Span)).ToArray());
    }

    [Fact]
    public void Split_DropsPaddingRowsAndReturnsEachRequestsRows()
    {
        var output = Floats([4, 1], 10, 20, 30, 99);

        var parts = BatchAssembler.Split("y", output, [1, 2], paddedRows: 4);

        Assert.Equal([1L, 1], parts[0].Shape);
        Assert.Equal([10f], parts[0].AsSpan<float>().ToArray());
        Assert.Equal([2L, 1], parts[1].Shape);
        Assert.Equal([20f, 30], parts[1].AsSpan<float>().ToArray());
    }

    [Fact]
    public void Split_Strings_SplitsOnElementBoundaries()
    {
        var parts = BatchAssembler.Split("s", Strings([3], "x", "yy", "pad"), [2], paddedRows: 3);

        Assert.Equal(["x", "yy"], parts[0].ReadStrings().Select(s => Encoding.UTF8.GetString(s.Span)).ToArray());
        Assert.Equal([2L], parts[0].Shape);
    }

    [Fact]
    public void Split_OutputNotBatched_ThrowsInternalNamingTheOutput()
    {
        var e = Assert.Throws<ServingException>(() => BatchAssembler.Split("total", Floats([1], 5), [1, 1], paddedRows: 2));

        Assert.Equal(ServingStatusCode.Internal, e.Code);
        Assert.Contains("'total' has shape [1]", e.Message);
    }

    [Fact]
    public void SliceThenJoin_RoundTripsNumericAndStrings()
    {
        var numbers = Floats([3, 2], 1, 2, 3, 4, 5, 6);
        var joined = BatchAssembler.Join([BatchAssembler.Slice(numbers, 0, 1), BatchAssembler.Slice(numbers, 1, 2)]);
        Assert.Equal(numbers.Shape, joined.Shape);
        Assert.Equal(numbers.Data, joined.Data);

        var text = Strings([3], "a", "bb", "ccc");
        var joinedText = BatchAssembler.Join([BatchAssembler.Slice(text, 0, 2), BatchAssembler.Slice(text, 2, 1)]);
        Assert.Equal(text.Data, joinedText.Data);
    }

    [Fact]
    public void RowCount_InputsDisagreeOnDimensionZero_ThrowsInvalidArgument()
    {
        var e = Assert.Throws<ServingException>(() => BatchAssembler.RowCount([new("a", Floats([2, 1], 1, 2)), new("b", Floats([1, 1], 1))]));

        Assert.Equal(ServingStatusCode.InvalidArgument, e.Code);
        Assert.Contains("equal 0th-dimension size", e.Message);
    }

    [Fact]
    public void RowCount_ScalarInput_ThrowsInvalidArgument()
    {
        var e = Assert.Throws<ServingException>(() => BatchAssembler.RowCount([new("a", Floats([], 1))]));

        Assert.Equal(ServingStatusCode.InvalidArgument, e.Code);
    }
}

public sealed class BatchKeyTests
{
    private static readonly ModelSignature Signature = new("serving_default", ModelSignature.PredictMethodName,
        [new TensorSpec("x", "x", TensorDType.Float, [-1, -1])],
        [new TensorSpec("y", "y", TensorDType.Float, [-1, -1]), new TensorSpec("z", "z", TensorDType.Float, [-1, -1])]);

    private static BatchKey Key(long[] shape, string[]? outputs = null, bool pad = false, ModelSignature? signature = null, TensorDType dtype = TensorDType.Float)
        => BatchKey.For(signature ?? Signature, [new NamedTensor("x", new TensorData(dtype, shape, new byte[TensorData.CountElements(shape) * 4]))], outputs ?? ["y", "z"], pad);

    [Fact]
    public void Equals_SameInnerShapeDifferentRows_AreEqual()
    {
        Assert.Equal(Key([1, 3]), Key([5, 3]));
        Assert.Equal(Key([1, 3]).GetHashCode(), Key([5, 3]).GetHashCode());
    }

    [Fact]
    public void Equals_DifferentInnerShape_DifferUnlessPadding()
    {
        Assert.NotEqual(Key([1, 3]), Key([1, 4]));
        Assert.Equal(Key([1, 3], pad: true), Key([1, 4], pad: true));
        Assert.NotEqual(Key([1, 3], pad: true), Key([1, 3, 1], pad: true));
    }

    [Fact]
    public void Equals_DifferentOutputFilterOrSignatureOrDType_Differ()
    {
        Assert.NotEqual(Key([1, 3]), Key([1, 3], outputs: ["y"]));
        Assert.NotEqual(Key([1, 3], outputs: ["z", "y"]), Key([1, 3]));
        Assert.NotEqual(Key([1, 3]), Key([1, 3], signature: Signature with { Key = "other" }));
        Assert.NotEqual(Key([1, 3]), Key([1, 3], dtype: TensorDType.Int32));
    }
}
