using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Grid.Engines.TensorFlow.Conversion;
using Grid.Engines.TensorFlow.SavedModel;
using Grid.Models;
using Grid.Serving;

namespace Grid.Silo.Commands;

/// <summary>
/// <c>grid convert SAVED_MODEL_DIR -o model.onnx [--signature KEY]</c>: runs the SavedModel
/// importer offline and writes one signature as a standard ONNX file (viewable in Netron,
/// servable by Grid or any ONNX Runtime), then prints what it converted. A bad input exits with
/// status 2 and one line.
/// </summary>
public static class ConvertCommand
{
    public static Command Create()
    {
        var directory = new Argument<string>("saved_model_dir") { Description = "A SavedModel directory (the one holding saved_model.pb and variables/)." };
        var output = new Option<string>("--output", "-o") { Description = "The ONNX file to write.", Required = true };
        var signature = new Option<string>("--signature") { Description = "The signature to convert.", DefaultValueFactory = _ => ModelSignature.DefaultKey };
        var tags = new Option<string>("--saved_model_tags") { Description = "Comma-separated tags that pick the MetaGraphDef.", DefaultValueFactory = _ => "serve" };
        var command = new Command("convert", "Import a TensorFlow SavedModel signature and write it as an ONNX model.") { directory, output, signature, tags };
        command.SetAction(result => Run(result.GetValue(directory)!, result.GetValue(output)!, result.GetValue(signature)!, result.GetValue(tags)!));
        return command;
    }

    private static int Run(string directory, string output, string signatureKey, string tags)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            var bundle = SavedModelLoader.Load(directory, [.. tags.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)]);
            if (!bundle.Signatures.ContainsKey(signatureKey))
            {
                return Program.Fail($"{directory} has no signature '{signatureKey}'; it has: {string.Join(", ", bundle.Signatures.Keys.Order(StringComparer.Ordinal))}");
            }
            var conversion = SignatureConverter.Convert(bundle, signatureKey);
            var target = Path.GetFullPath(output);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.WriteAllBytes(target, conversion.Model);
            Print(bundle, signatureKey, conversion, target, watch.Elapsed);
            return 0;
        }
        catch (ServingException e)
        {
            return Program.Fail(e.Message);
        }
        catch (IOException e)
        {
            return Program.Fail($"cannot write {output}: {e.Message}");
        }
        catch (UnauthorizedAccessException e)
        {
            return Program.Fail($"cannot write {output}: {e.Message}");
        }
    }

    private static void Print(SavedModelBundle bundle, string key, OnnxConversion conversion, string target, TimeSpan elapsed)
    {
        static string Shape(IReadOnlyList<long>? dims) => dims is null ? "unknown rank" : $"[{string.Join(",", dims)}]";
        Console.WriteLine($"wrote {target} ({conversion.Model.Length.ToString("N0", CultureInfo.InvariantCulture)} bytes) in {elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s");
        Console.WriteLine($"signature {key} ({bundle.Signatures[key].MethodName}), variables mapped {bundle.Mapping}: {bundle.Variables.Count}");
        foreach (var t in conversion.Inputs)
        {
            Console.WriteLine($"  input  {t.Key}: {t.TensorName} {t.DType} {Shape(t.SignatureDims)} -> ONNX input {t.OnnxName} {Shape(t.Dims)}");
        }
        foreach (var t in conversion.Outputs)
        {
            Console.WriteLine($"  output {t.Key}: {t.TensorName} {t.DType} {Shape(t.SignatureDims)} -> ONNX output {t.OnnxName}");
        }
        var tf = ConversionSummary.TensorFlowOps(bundle.MetaGraph, key);
        Console.WriteLine($"TensorFlow ops converted ({tf.Values.Sum()} nodes): {string.Join(", ", tf.Select(p => $"{p.Key} {p.Value}"))}");
        var onnx = ConversionSummary.OnnxOps(conversion.Model);
        Console.WriteLine($"ONNX nodes ({onnx.Values.Sum()}): {string.Join(", ", onnx.Select(p => $"{p.Key} {p.Value}"))}");
    }
}
