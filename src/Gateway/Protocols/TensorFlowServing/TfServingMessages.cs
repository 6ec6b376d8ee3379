using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grid.Models;
using Grid.Serving;
using Tensorflow;
using Tensorflow.Serving;

namespace Grid.Gateway.Protocols.TensorFlowServing;

/// <summary>
/// Builds TF Serving's status and metadata messages from Grid's model status. Shared by the
/// gRPC and REST adapters, so both protocols answer with identical content.
/// </summary>
public static class TfServingMessages
{
    public const string SignatureDefField = "signature_def";

    /// <summary>Protobuf JSON as TF Serving's REST API prints it: proto field names, defaults included.</summary>
    public static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true).WithPreserveProtoFieldNames(true));

    /// <summary>
    /// A SignatureDefMap as TF Serving's REST metadata prints it: every field, empty ones
    /// included, except the empty <c>defaults</c> of a signature without a method name
    /// (TensorFlow's <c>__saved_model_init_op</c>), which TF Serving's printer leaves out (its
    /// recorded TF2 metadata response shows this).
    /// </summary>
    public static string SignatureDefMapJson(Tensorflow.Serving.SignatureDefMap map)
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(Json.Format(map))!;
        if (json["signature_def"] is System.Text.Json.Nodes.JsonObject signatures)
        {
            foreach (var (_, signature) in signatures)
            {
                if (signature is System.Text.Json.Nodes.JsonObject s && s["method_name"]?.GetValue<string>() == ""
                    && s["defaults"] is System.Text.Json.Nodes.JsonObject { Count: 0 })
                {
                    s.Remove("defaults");
                }
            }
        }
        return json.ToJsonString();
    }

    public static GetModelStatusResponse StatusResponse(ModelStatus status, long? version)
    {
        var response = new GetModelStatusResponse();
        foreach (var v in status.Versions.OrderByDescending(v => v.Version))
        {
            if (version is { } only && v.Version != only)
            {
                continue;
            }
            response.ModelVersionStatus.Add(new ModelVersionStatus
            {
                Version = v.Version,
                State = (ModelVersionStatus.Types.State)(int)v.State,
                Status = new StatusProto { ErrorCode = (Tensorflow.Error.Code)(int)v.ErrorCode, ErrorMessage = v.ErrorMessage },
            });
        }
        return response;
    }

    /// <summary>TF Serving's status lookup errors (REST and gRPC share them).</summary>
    public static void EnsureStatusFound(ModelStatus status, string model, long? version)
    {
        if (!status.Exists)
        {
            throw ServingException.NotFound($"Could not find any versions of model {model}");
        }
        if (version is { } v && status.Find(v) is null)
        {
            throw ServingException.NotFound($"Could not find version {v} of model {model}");
        }
    }

    public static SignatureDefMap SignatureDefMap(IEnumerable<ModelSignature> signatures)
    {
        var map = new SignatureDefMap();
        foreach (var s in signatures)
        {
            var def = new SignatureDef { MethodName = s.MethodName };
            foreach (var i in s.Inputs)
            {
                def.Inputs[i.Alias] = TensorInfo(i);
            }
            foreach (var o in s.Outputs)
            {
                def.Outputs[o.Alias] = TensorInfo(o);
            }
            map.SignatureDef[s.Key] = def;
        }
        return map;
    }

    private static TensorInfo TensorInfo(TensorSpec spec) => new()
    {
        Name = spec.TensorName,
        Dtype = (DataType)(int)spec.DType,
        TensorShape = TensorProtoCodec.EncodeShape(spec.Shape),
    };

    public static ModelSpec Spec(string model, long version, string signatureName) => new()
    {
        Name = model,
        Version = version,
        SignatureName = signatureName,
    };

    public static GetModelMetadataResponse MetadataResponse(string model, VersionStatus version)
    {
        var response = new GetModelMetadataResponse { ModelSpec = Spec(model, version.Version, "") };
        response.Metadata[SignatureDefField] = Any.Pack(SignatureDefMap(version.Signatures));
        return response;
    }
}

/// <summary>The reverse mapping, for clients that read a server's metadata.</summary>
public static class SignatureDefReader
{
    public static Grid.Models.ModelSignature ToSignature(string key, SignatureDef def) => new(
        key,
        def.MethodName,
        def.Inputs.Select(kv => ToSpec(kv.Key, kv.Value)).ToArray(),
        def.Outputs.Select(kv => ToSpec(kv.Key, kv.Value)).ToArray());

    private static Grid.Models.TensorSpec ToSpec(string alias, TensorInfo info) => new(
        alias,
        info.Name,
        (Grid.Tensors.TensorDType)(int)info.Dtype,
        info.TensorShape is null || info.TensorShape.UnknownRank ? null : info.TensorShape.Dim.Select(d => d.Size).ToArray());
}
