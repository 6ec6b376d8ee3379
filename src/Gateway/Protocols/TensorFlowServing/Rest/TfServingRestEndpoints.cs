using System.Buffers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Grid.Gateway.Configuration;
using Grid.Gateway.Routing;
using Grid.Inference;
using Grid.Serving;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Grid.Gateway.Protocols.TensorFlowServing.Rest;

/// <summary>
/// TF Serving's REST API. Paths are matched the way TF Serving matches them
/// (http_rest_api_handler.cc): case-insensitive, names and labels are <c>[^/:]+</c> and URL-decoded.
/// </summary>
public static partial class TfServingRestEndpoints
{
    [GeneratedRegex(@"^/v1/models(?:/(?<name>[^/:]+))?(?:/versions/(?<version>\d+)|/labels/(?<label>[^/:]+))?(?<metadata>/metadata)?$", RegexOptions.IgnoreCase)]
    private static partial Regex GetPath();

    [GeneratedRegex(@"^/v1/models/(?<name>[^/:]+)(?:/versions/(?<version>\d+)|/labels/(?<label>[^/:]+))?:(?<method>classify|regress|predict)$", RegexOptions.IgnoreCase)]
    private static partial Regex PostPath();

    public static IEndpointRouteBuilder MapTensorFlowServingRest(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapMethods("/v1/{**rest}", ["GET", "POST"], HandleAsync);
        return endpoints;
    }

    private static async Task HandleAsync(HttpContext context)
    {
        try
        {
            var router = context.RequestServices.GetRequiredService<ModelRouter>();
            var options = context.RequestServices.GetRequiredService<IOptions<GatewayOptions>>().Value;
            var path = context.Request.Path.Value ?? "";
            if (HttpMethods.IsGet(context.Request.Method))
            {
                await HandleGetAsync(context, router, path);
            }
            else
            {
                await HandlePostAsync(context, router, options, path);
            }
        }
        catch (Exception e)
        {
            var (status, message) = RestErrors.Map(e, context);
            await RestErrors.WriteAsync(context, status, message);
        }
    }

    private static async Task HandleGetAsync(HttpContext context, ModelRouter router, string path)
    {
        var match = GetPath().Match(path);
        if (!match.Success)
        {
            throw ServingException.InvalidArgument($"Malformed request: GET {path}");
        }
        if (!match.Groups["name"].Success)
        {
            throw ServingException.InvalidArgument("Missing model name in request.");
        }
        var model = Uri.UnescapeDataString(match.Groups["name"].Value);
        var version = ParseVersion(match);
        if (match.Groups["metadata"].Success)
        {
            if (match.Groups["label"].Success)
            {
                throw ServingException.InvalidArgument($"Unrecognized servable version label: {Uri.UnescapeDataString(match.Groups["label"].Value)}");
            }
            var target = await router.ResolveAsync(model, version, fresh: true);
            var metadata = TfServingMessages.MetadataResponse(model, target);
            await WriteJsonAsync(context, w =>
            {
                w.WriteStartObject();
                w.WritePropertyName("model_spec");
                w.WriteRawValue(TfServingMessages.Json.Format(metadata.ModelSpec));
                w.WritePropertyName("metadata");
                w.WriteStartObject();
                w.WritePropertyName(TfServingMessages.SignatureDefField);
                w.WriteRawValue(TfServingMessages.Json.Format(metadata.Metadata[TfServingMessages.SignatureDefField].Unpack<Tensorflow.Serving.SignatureDefMap>()));
                w.WriteEndObject();
                w.WriteEndObject();
            });
            return;
        }
        // As in TF Serving, a label in a status request is accepted and every version is returned.
        var status = await router.GetStatusAsync(model);
        TfServingMessages.EnsureStatusFound(status, model, version);
        var response = TfServingMessages.StatusResponse(status, version);
        await WriteJsonAsync(context, w => w.WriteRawValue(TfServingMessages.Json.Format(response)));
    }

    private static async Task HandlePostAsync(HttpContext context, ModelRouter router, GatewayOptions options, string path)
    {
        var match = PostPath().Match(path);
        if (!match.Success)
        {
            throw ServingException.InvalidArgument($"Malformed request: POST {path}");
        }
        var model = Uri.UnescapeDataString(match.Groups["name"].Value);
        var method = match.Groups["method"].Value.ToLowerInvariant();
        if (match.Groups["label"].Success)
        {
            throw ServingException.InvalidArgument($"Unrecognized servable version label: {Uri.UnescapeDataString(match.Groups["label"].Value)}");
        }
        var version = ParseVersion(match);
        var body = await ReadBodyAsync(context, options.MaxMessageBytes);
        if (method != "predict")
        {
            await HandleExamplesAsync(context, model, version, method == "classify" ? ExampleMethod.Classify : ExampleMethod.Regress, body);
            return;
        }
        using var parsed = TfServingJsonCodec.ParseBody(body);
        var signatureName = string.IsNullOrEmpty(parsed.SignatureName) ? Models.ModelSignature.DefaultKey : parsed.SignatureName;
        var experiments = context.RequestServices.GetRequiredService<Experiments.ExperimentRouter>();
        var (result, arm) = await experiments.PredictAsync(model, version, key => context.Request.Headers.TryGetValue(key, out var v) ? v.ToString() : null, target =>
        {
            var signature = Array.Find(target.Signatures, s => s.Key == signatureName)
                ?? throw ServingException.InvalidArgument($"Serving signature name: \"{signatureName}\" not found in signature def");
            return new InferenceRequest(signatureName, TfServingJsonCodec.DecodeInputs(parsed, signature), []);
        }, context.RequestAborted);
        if (arm is not null)
        {
            context.Response.Headers[Experiments.ExperimentHeaders.Arm] = arm;
        }
        await WriteJsonAsync(context, w => TfServingJsonCodec.WriteResponse(w, parsed.IsRowFormat, result.Outputs));
    }

    /// <summary><c>:classify</c> and <c>:regress</c>: the body is parsed before the model is looked up, as in TF Serving.</summary>
    private static async Task HandleExamplesAsync(HttpContext context, string model, long? version, ExampleMethod method, ReadOnlyMemory<byte> body)
    {
        var parsed = TfServingExampleJson.ParseBody(body);
        var examples = context.RequestServices.GetRequiredService<ExampleInferenceService>();
        var run = await examples.RunAsync(model, version, parsed.SignatureName, method, parsed.Input,
            key => context.Request.Headers.TryGetValue(key, out var v) ? v.ToString() : null, context.RequestAborted);
        if (run.Arm is not null)
        {
            context.Response.Headers[Experiments.ExperimentHeaders.Arm] = run.Arm;
        }
        if (method == ExampleMethod.Classify)
        {
            var result = ExampleInference.ToClassificationResult(run.Task, run.Examples, run.Result.Outputs);
            await WriteJsonAsync(context, w => TfServingExampleJson.WriteClassification(w, result));
        }
        else
        {
            var result = ExampleInference.ToRegressionResult(run.Task, run.Examples, run.Result.Outputs);
            await WriteJsonAsync(context, w => TfServingExampleJson.WriteRegression(w, result));
        }
    }

    private static long? ParseVersion(Match match)
    {
        if (!match.Groups["version"].Success)
        {
            return null;
        }
        if (!long.TryParse(match.Groups["version"].Value, out var version))
        {
            throw ServingException.InvalidArgument($"Failed to convert version: {match.Groups["version"].Value} to numeric.");
        }
        return version;
    }

    /// <summary>
    /// Reads the whole body, refusing it with 413 when it is over the limit. An oversized body
    /// is read and discarded (up to <see cref="DrainFactor"/> × the limit) rather than left
    /// unread: closing on a client that is still uploading breaks its pipe before it can read
    /// the error. The connection is closed after the answer.
    /// </summary>
    private static async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpContext context, int limit)
    {
        var declared = context.Request.ContentLength;
        if (declared > limit)
        {
            await RejectOversizedAsync(context, limit, $"Request body of {declared} bytes is larger than the limit of {limit} bytes");
        }
        var buffer = new ArrayBufferWriter<byte>(declared is > 0 ? (int)declared.Value : 4096);
        while (true)
        {
            var memory = buffer.GetMemory(16 * 1024);
            var read = await context.Request.Body.ReadAsync(memory, context.RequestAborted);
            if (read == 0)
            {
                break;
            }
            buffer.Advance(read);
            if (buffer.WrittenCount > limit)
            {
                await RejectOversizedAsync(context, limit, $"Request body is larger than the limit of {limit} bytes");
            }
        }
        return buffer.WrittenMemory;
    }

    private const int DrainFactor = 4;

    private static async Task RejectOversizedAsync(HttpContext context, int limit, string message)
    {
        var scratch = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            long drained = 0;
            int read;
            while (drained < (long)DrainFactor * limit
                   && (read = await context.Request.Body.ReadAsync(scratch, context.RequestAborted)) > 0)
            {
                drained += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
        context.Response.Headers.Connection = "close";
        throw new BadHttpRequestException(message, StatusCodes.Status413PayloadTooLarge);
    }

    private static async Task WriteJsonAsync(HttpContext context, Action<Utf8JsonWriter> write)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.BodyWriter);
        write(writer);
        await writer.FlushAsync(context.RequestAborted);
    }
}
