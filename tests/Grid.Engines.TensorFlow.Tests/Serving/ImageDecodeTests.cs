using Grid.Engines.TensorFlow.Conversion;
using Grid.Engines.TensorFlow.Serving;
using Grid.Engines.TensorFlow.Tests.Conversion;
using Grid.Models;
using Grid.Serving;
using Grid.Serving.Inference;
using Grid.Tensors;
using SkiaSharp;
using Tensorflow;
using static Grid.Engines.TensorFlow.Tests.Conversion.TestGraph;

namespace Grid.Engines.TensorFlow.Tests.Serving;

/// <summary>
/// Image decode ops fed by a signature input run on the host ahead of the ONNX model, as TF
/// Serving's image exports do (a DT_STRING of encoded bytes → Decode* → Cast → Resize → model).
/// The images are encoded here with SkiaSharp from known pixels.
/// </summary>
public sealed class ImageDecodeTests
{
    private static readonly OnnxModelEngine Onnx = new(new OnnxRuntimeOptions { IntraOpThreads = 1 });

    /// <summary>An image whose pixel (x, y) is <paramref name="pixel"/>(x, y), encoded as <paramref name="format"/>.</summary>
    private static byte[] Encode(int width, int height, Func<int, int, SKColor> pixel, SKEncodedImageFormat format, SKColorType colorType = SKColorType.Rgba8888)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, colorType, colorType == SKColorType.Gray8 ? SKAlphaType.Opaque : SKAlphaType.Unpremul));
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                bitmap.SetPixel(x, y, pixel(x, y));
            }
        }

        using var data = bitmap.Encode(format, 100);
        return data.ToArray();
    }

    /// <summary>contents (scalar string) → <paramref name="decodeOp"/> → [Cast → ExpandDims → ResizeBilinear to 2×2] → output.</summary>
    private static TestGraph ImageGraph(string decodeOp, int channels, bool resize, params (string Name, AttrValue Value)[] attrs)
    {
        var g = new TestGraph();
        g.Input("image_bytes", DataType.DtString, [], "image");
        g.Node(decodeOp, "decode", ["image_bytes"], [("channels", I(channels)), .. attrs]);
        if (!resize)
        {
            var dtype = attrs.Any(a => a.Name == "dtype" && a.Value.Type == DataType.DtFloat) ? DataType.DtFloat : DataType.DtUint8;
            g.Output("pixels", "decode", dtype, [-1, -1, channels == 0 ? -1 : channels]);
            return g;
        }

        g.Node("Cast", "to_float", ["decode"], ("SrcT", Type(DataType.DtUint8)), ("DstT", Type(DataType.DtFloat)));
        g.ConstInt("batch_axis", [0]);
        g.Node("ExpandDims", "batched", ["to_float", "batch_axis"], ("T", Type(DataType.DtFloat)));
        g.ConstInt("size", [2, 2], 2);
        g.Node("ResizeBilinear", "resized", ["batched", "size"], ("T", Type(DataType.DtFloat)));
        g.Output("pixels", "resized", DataType.DtFloat, [1, 2, 2, channels]);
        return g;
    }

    private static IModelSession Load(TestGraph g)
        => SavedModelEngine.LoadSignature(Onnx, ExecutionDevice.Cpu, ModelSignature.DefaultKey, g.Signature, g.Convert(), "test");

    private static TensorData Run(IModelSession session, TensorData image)
        => session.Run(session.Signatures[0], [new NamedTensor("image", image)], ["pixels"])[0].Tensor;

    private static TensorData Scalar(byte[] encoded) => TensorData.FromStrings([], [encoded]);

    private static SKColor Checker(int x, int y) => new((byte)(x * 60), (byte)(y * 50 + 10), (byte)(255 - (x * 20) - y), 255);

    [Fact]
    public void Run_DecodePngCastResize_GivesTheEncodedPixelsResized()
    {
        using var session = Load(ImageGraph("DecodePng", 3, resize: true));

        var result = Run(session, Scalar(Encode(4, 4, Checker, SKEncodedImageFormat.Png)));

        // ResizeBilinear 4×4 → 2×2 (no align_corners, no half-pixel centers) samples source (2i, 2j) exactly.
        Assert.Equal(new long[] { 1, 2, 2, 3 }, result.Shape);
        var expected = new[] { (0, 0), (2, 0), (0, 2), (2, 2) }
            .SelectMany(p => { var c = Checker(p.Item1, p.Item2); return new float[] { c.Red, c.Green, c.Blue }; });
        Assert.Equal(expected, result.AsSpan<float>().ToArray());
    }

    [Fact]
    public void Run_DecodeJpegCastResize_GivesTheBlockColorsWithinJpegLoss()
    {
        // Regions of one color survive JPEG at quality 100 within a few levels away from their edges
        // (chroma is subsampled): the 2×2 resize samples (0,0), (16,0), (0,16), (16,16), each
        // 8 pixels inside its region.
        SKColor[] colors = [new(200, 30, 40), new(20, 180, 60), new(50, 60, 220), new(240, 240, 10)];
        SKColor Block(int x, int y) => colors[((((y + 8) / 16) % 2) * 2) + (((x + 8) / 16) % 2)];
        using var session = Load(ImageGraph("DecodeJpeg", 3, resize: true));

        var result = Run(session, Scalar(Encode(32, 32, Block, SKEncodedImageFormat.Jpeg)));

        Assert.Equal(new long[] { 1, 2, 2, 3 }, result.Shape);
        var expected = colors.SelectMany(c => new float[] { c.Red, c.Green, c.Blue }).ToArray();
        OnnxRun.AssertClose(expected, result.AsSpan<float>().ToArray(), 6f);
    }

    [Fact]
    public void Run_DecodeImageChannelsZero_KeepsTheImagesChannels()
    {
        using var session = Load(ImageGraph("DecodeImage", 0, resize: false, ("dtype", Type(DataType.DtUint8))));
        static SKColor Translucent(int x, int y) => new((byte)(x * 80), (byte)(y * 70), 9, (byte)(100 + x + y));

        var rgba = Run(session, Scalar(Encode(3, 2, Translucent, SKEncodedImageFormat.Png)));
        var gray = Run(session, Scalar(Encode(3, 2, (x, y) => new SKColor((byte)(x * 40 + y), (byte)(x * 40 + y), (byte)(x * 40 + y)), SKEncodedImageFormat.Png, SKColorType.Gray8)));

        Assert.Equal(new long[] { 2, 3, 4 }, rgba.Shape);
        Assert.Equal(Enumerable.Range(0, 6).SelectMany(i => { var c = Translucent(i % 3, i / 3); return new[] { c.Red, c.Green, c.Blue, c.Alpha }; }), rgba.Data);
        Assert.Equal(new long[] { 2, 3, 1 }, gray.Shape);
        Assert.Equal(new byte[] { 0, 40, 80, 1, 41, 81 }, gray.Data);
    }

    [Fact]
    public void Run_DecodePngChannelsFourOfAnOpaqueImage_AddsOpaqueAlpha()
    {
        using var session = Load(ImageGraph("DecodePng", 4, resize: false));

        var result = Run(session, Scalar(Encode(2, 1, Checker, SKEncodedImageFormat.Png)));

        Assert.Equal(new long[] { 1, 2, 4 }, result.Shape);
        Assert.Equal(new byte[] { 0, 10, 255, 255, 60, 10, 235, 255 }, result.Data);
    }

    [Fact]
    public void Load_ImageSignature_KeepsTheDeclaredStringInput()
    {
        using var session = Load(ImageGraph("DecodeJpeg", 3, resize: true));

        var input = Assert.Single(session.Signatures[0].Inputs);
        Assert.Equal(("image", "image_bytes:0", TensorDType.String), (input.Alias, input.TensorName, input.DType));
        Assert.Equal(Array.Empty<long>(), input.Shape);
    }

    [Fact]
    public void Run_NotAnImage_FailsWithTensorFlowsMessage()
    {
        using var session = Load(ImageGraph("DecodeJpeg", 3, resize: true));

        var error = Assert.Throws<ServingException>(() => Run(session, Scalar("not an image"u8.ToArray())));

        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.Equal("Unknown image file format. One of JPEG, JPEG XL, PNG, GIF, BMP, WebP required.", error.Message);
    }

    [Fact]
    public void Run_DecodeBmpOfAPng_FailsWithTensorFlowsMessage()
    {
        using var session = Load(ImageGraph("DecodeBmp", 3, resize: false));

        var error = Assert.Throws<ServingException>(() => Run(session, Scalar(Encode(2, 2, Checker, SKEncodedImageFormat.Png))));

        Assert.Equal("Trying to decode PNG format using DecodeBmp op. Use `decode_png` or `decode_image` instead.", error.Message);
    }

    [Fact]
    public void Run_DecodeImageFloat_ScalesPixelsToUnitRange()
    {
        using var session = Load(ImageGraph("DecodeImage", 3, resize: false, ("dtype", Type(DataType.DtFloat))));

        var result = Run(session, Scalar(Encode(2, 1, Checker, SKEncodedImageFormat.Png)));

        Assert.Equal(TensorDType.Float, result.DType);
        Assert.Equal(new[] { 0f, 10 / 255f, 1f, 60 / 255f, 10 / 255f, 235 / 255f }, result.AsSpan<float>().ToArray());
    }

    [Fact]
    public void Run_ContentsThatAreNotAScalar_FailWithTensorFlowsMessage()
    {
        using var session = Load(ImageGraph("DecodePng", 3, resize: false));
        var png = Encode(2, 2, Checker, SKEncodedImageFormat.Png);

        var error = Assert.Throws<ServingException>(() => Run(session, TensorData.FromStrings([2], [png, png])));

        Assert.Equal("`contents` must be scalar but got shape[2]", error.Message);
    }

    [Fact]
    public void Convert_DecodeOfAComputedString_IsRefusedWithTheReason()
    {
        var g = new TestGraph();
        g.Input("images", DataType.DtString, [-1], "images");
        g.ConstInt("zero", [0]);
        g.Node("GatherV2", "first", ["images", "zero", "zero"]);
        g.Node("DecodeJpeg", "decode", ["first"], ("channels", I(3)));
        g.Output("pixels", "decode", DataType.DtUint8, [-1, -1, 3]);

        var error = Assert.Throws<ServingException>(() => g.Convert());

        Assert.Contains("DecodeJpeg node decode: its encoded image is computed by node first (GatherV2), not fed by a signature input", error.Message);
    }
}
