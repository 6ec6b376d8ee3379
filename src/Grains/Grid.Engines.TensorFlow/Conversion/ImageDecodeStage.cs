using Grid.Engines.TensorFlow.Conversion.Graph;
using Grid.Engines.TensorFlow.Conversion.OnnxModel;
using Grid.Serving;
using Grid.Tensors;
using SkiaSharp;
using Tensorflow;

namespace Grid.Engines.TensorFlow.Conversion;

/// <summary>
/// A DecodeJpeg / DecodeAndCropJpeg / DecodePng / DecodeBmp / DecodeImage node the conversion
/// cut out of the ONNX graph because its <c>contents</c> is a signature input: the host decodes
/// the encoded image (JPEG, PNG, BMP, WebP and a GIF's first frame, through SkiaSharp) to
/// <c>[height, width, channels]</c> as TensorFlow does and feeds it to the ONNX model.
/// </summary>
/// <remarks>
/// As TensorFlow: one scalar string per run (a graph that decodes a batch does so in a loop
/// over the strings, which is not cut); <c>channels</c> 0 keeps the image's own (1 for
/// grayscale, 3 for opaque color, 4 with alpha), 1/3/4 convert; the decode ops other than
/// DecodeBmp read any of the formats, DecodeBmp only BMP; <c>dtype</c> uint8, or float
/// (value / 255) for DecodeImage; TensorFlow's error texts. Differences: JPEG goes through
/// Skia's libjpeg-turbo with its default (accurate) DCT where TensorFlow defaults to the fast
/// one, so pixels may differ by a few levels; color to gray uses Rec. 601 weights for JPEG and
/// Rec. 709 for the rest; a gray+alpha PNG with <c>channels</c> 0 gives 4 channels, not 2.
/// </remarks>
/// <param name="Input">The ONNX input fed with the decoded image.</param>
/// <param name="Channels">The node's <c>channels</c> attribute (0, 1, 3 or 4).</param>
/// <param name="Float">True for DecodeImage with <c>dtype</c> float: values scaled to [0, 1].</param>
/// <param name="Reshaped">True when the graph reshapes the fed tensor to a scalar first (any one-element tensor is accepted).</param>
/// <param name="Crop">DecodeAndCropJpeg's constant crop window (y, x, height, width).</param>
/// <param name="ExpandAnimations">DecodeImage's <c>expand_animations</c>: a GIF would give all its frames (4-D), which is refused.</param>
public sealed record ImageDecodeStage(
    string InputKey, string NodeName, string Op, HostStageInput Input, int Channels, bool Float, bool Reshaped, int[]? Crop, bool ExpandAnimations = false)
    : HostStage(InputKey, NodeName, Op)
{
    public override IReadOnlyList<HostStageInput> OnnxInputs { get; } = [Input];

    public override IEnumerable<NamedTensor> Run(TensorData input)
    {
        if (!Reshaped && input.Shape.Length != 0)
        {
            throw ServingException.InvalidArgument($"`contents` must be scalar but got shape{TensorData.FormatShape(input.Shape)}");
        }

        if (input.ElementCount != 1)
        {
            throw ServingException.InvalidArgument(
                $"Input to reshape is a tensor with {input.ElementCount} values, but the requested shape has 1");
        }

        var bytes = input.ReadStrings()[0];
        return [new NamedTensor(Input.OnnxName, Decode(bytes.Span))];
    }

    private TensorData Decode(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            throw ServingException.InvalidArgument("Input is empty.");
        }

        var format = Format(data);
        if (format is null)
        {
            throw ServingException.InvalidArgument("Unknown image file format. One of JPEG, JPEG XL, PNG, GIF, BMP, WebP required.");
        }

        if (Op == "DecodeBmp" && format != "BMP")
        {
            throw ServingException.InvalidArgument($"Trying to decode {format} format using DecodeBmp op. Use `decode_{format.ToLowerInvariant()}` or `decode_image` instead.");
        }

        if (format == "GIF" && ExpandAnimations)
        {
            throw ServingException.InvalidArgument(
                "DecodeImage with expand_animations=true gives every frame of a GIF ([frames, height, width, 3]); Grid decodes only a GIF's first frame (expand_animations=false)");
        }

        if (format == "JPEG" && Channels == 4)
        {
            throw ServingException.InvalidArgument("JPEG does not support 4 channels");
        }

        using var skData = SKData.CreateCopy(data);
        using var codec = SKCodec.Create(skData)
            ?? throw ServingException.InvalidArgument(format == "JPEG"
                ? "jpeg::Uncompress failed. Invalid JPEG data or crop window."
                : $"Invalid {format}. Failed to initialize decoder.");
        var info = codec.Info;
        var gray = info.ColorType == SKColorType.Gray8;
        var own = gray ? 1 : info.AlphaType == SKAlphaType.Opaque ? 3 : 4;
        var channels = Channels == 0 ? own : Channels;
        var decodeInfo = new SKImageInfo(info.Width, info.Height, gray ? SKColorType.Gray8 : SKColorType.Rgba8888, gray ? SKAlphaType.Opaque : SKAlphaType.Unpremul);
        var pixels = new byte[decodeInfo.BytesSize];
        unsafe
        {
            fixed (byte* p = pixels)
            {
                var result = codec.GetPixels(decodeInfo, (IntPtr)p);
                if (result is not (SKCodecResult.Success or SKCodecResult.IncompleteInput))
                {
                    throw ServingException.InvalidArgument(format == "JPEG"
                        ? "jpeg::Uncompress failed. Invalid JPEG data or crop window."
                        : $"Invalid {format}. Failed to decode the image ({result}).");
                }
            }
        }

        var (top, left, height, width) = (0, 0, info.Height, info.Width);
        if (Crop is [var cy, var cx, var ch, var cw])
        {
            if (cy < 0 || cx < 0 || ch <= 0 || cw <= 0 || cy + ch > info.Height || cx + cw > info.Width)
            {
                throw ServingException.InvalidArgument("jpeg::Uncompress failed. Invalid JPEG data or crop window.");
            }

            (top, left, height, width) = (cy, cx, ch, cw);
        }

        var source = gray ? 1 : 4;
        var rec601 = format == "JPEG";
        var output = new byte[height * width * channels];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var at = (((top + y) * info.Width) + left + x) * source;
                var (r, g, b, a) = gray
                    ? (pixels[at], pixels[at], pixels[at], (byte)255)
                    : (pixels[at], pixels[at + 1], pixels[at + 2], pixels[at + 3]);
                var to = ((y * width) + x) * channels;
                switch (channels)
                {
                    case 1:
                        output[to] = gray ? r : Luma(r, g, b, rec601);
                        break;
                    case 3:
                        (output[to], output[to + 1], output[to + 2]) = (r, g, b);
                        break;
                    default:
                        (output[to], output[to + 1], output[to + 2], output[to + 3]) = (r, g, b, a);
                        break;
                }
            }
        }

        long[] shape = [height, width, channels];
        return Float
            ? TensorData.FromFloats(shape, output.Select(v => v / 255f).ToArray())
            : new TensorData(TensorDType.UInt8, shape, output);
    }

    private static byte Luma(byte r, byte g, byte b, bool rec601)
        => (byte)Math.Clamp(Math.Round(rec601 ? (0.299 * r) + (0.587 * g) + (0.114 * b) : (0.2126 * r) + (0.7152 * g) + (0.0722 * b)), 0, 255);

    /// <summary>The format the magic bytes name, as TensorFlow classifies them; null when unknown.</summary>
    private static string? Format(ReadOnlySpan<byte> data)
    {
        if (data.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]))
        {
            return "JPEG";
        }

        if (data.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        {
            return "PNG";
        }

        if (data.StartsWith("GIF8"u8))
        {
            return "GIF";
        }

        if (data.StartsWith("BM"u8))
        {
            return "BMP";
        }

        return data.Length > 12 && data.StartsWith("RIFF"u8) && data[8..].StartsWith("WEBP"u8) ? "WebP" : null;
    }
}

/// <summary>Decides whether an image decode node can run on the host ahead of the ONNX graph.</summary>
internal static class ImageDecodeCuts
{
    public static bool IsDecode(string op) => op is "DecodeJpeg" or "DecodeAndCropJpeg" or "DecodePng" or "DecodeBmp" or "DecodeImage";

    public static (HostCut?, string?) TryCut(TfNode node, IReadOnlyDictionary<TfNode, string> feeds)
    {
        var contents = node.Inputs.Count > 0 ? node.Inputs[0] : throw ServingException.InvalidArgument($"node {node} has no inputs");
        var reshaped = false;
        while (true)
        {
            var op = contents.Node.Op;
            if (op is "Identity" or "Snapshot" or "StopGradient")
            {
                contents = contents.Node.Inputs[0];
            }
            else if (op == "Squeeze" && contents.Node.Ints("squeeze_dims").Count == 0)
            {
                reshaped = true;
                contents = contents.Node.Inputs[0];
            }
            else if (op == "Reshape" && TryFold(contents.Node.Inputs[1]) is { Length: 0 })
            {
                reshaped = true;
                contents = contents.Node.Inputs[0];
            }
            else
            {
                break;
            }
        }

        if (!feeds.TryGetValue(contents.Node, out var inputKey))
        {
            return (null, $"its encoded image is computed by node {contents.Node}, not fed by a signature input; Grid decodes images only where a signature input feeds the decode op (one image per run)");
        }

        var channels = node.Op == "DecodeImage" || node.TryGetAttr("channels") is not null ? (int)node.Int("channels") : 0;
        if (channels is not (0 or 1 or 3 or 4) || (node.Op is "DecodeJpeg" or "DecodeAndCropJpeg" && channels == 4))
        {
            return (null, node.Op is "DecodeJpeg" or "DecodeAndCropJpeg" ? $"channels must be 0, 1, or 3, got {channels}" : $"`channels` must be 0, 1, 3 or 4 but got {channels}");
        }

        if (node.Op is "DecodeJpeg" or "DecodeAndCropJpeg" && node.TryGetAttr("ratio") is { } ratio && ratio.I != 1)
        {
            return (null, $"ratio {ratio.I} (decoding downscaled) is not supported");
        }

        var dtype = node.Op is "DecodePng" or "DecodeImage" ? node.TryGetAttr("dtype")?.Type ?? DataType.DtUint8 : DataType.DtUint8;
        if (dtype != DataType.DtUint8 && !(node.Op == "DecodeImage" && dtype == DataType.DtFloat))
        {
            return (null, $"dtype {dtype} is not supported (uint8, and float for DecodeImage)");
        }

        int[]? crop = null;
        if (node.Op == "DecodeAndCropJpeg")
        {
            if (TryFold(node.Inputs[1]) is not { Length: 4 } window)
            {
                return (null, "its crop_window is not a constant of four elements");
            }

            crop = window.Select(v => (int)v).ToArray();
        }

        return (new HostCut(node, inputKey, builder =>
        {
            long[] dims = [-1, -1, channels == 0 ? -1 : channels];
            var name = builder.AddUniqueInput($"{inputKey}/decoded", OnnxGraphBuilder.TensorType(TfDataTypes.ToOnnx(dtype), dims, $"{inputKey}_image"));
            var stage = new ImageDecodeStage(inputKey, node.Name, node.Op, new HostStageInput(name, dtype, dims), channels, dtype == DataType.DtFloat, reshaped, crop,
                node.Op == "DecodeImage" && (node.TryGetAttr("expand_animations")?.B ?? true));
            return ([ConvertedTensor.Value(name, dtype, dims)], stage);
        }), null);
    }

    private static long[]? TryFold(TensorRef tensor)
    {
        try
        {
            return ConstantFolder.Fold(tensor, "a constant").ToInt64Array();
        }
        catch (ServingException)
        {
            return null;
        }
    }
}
