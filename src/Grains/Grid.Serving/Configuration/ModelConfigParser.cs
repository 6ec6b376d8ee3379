using Grid.Devices;

namespace Grid.Serving.Configuration;

/// <summary>
/// What a model's <c>config.pbtxt</c> (Triton's model configuration, at the model's base path)
/// says about how Grid deploys it. Null members were not given.
/// </summary>
/// <param name="Replicas">Triton's <c>instance_group.count</c>: replicas of every served version.</param>
/// <param name="Device">Triton's <c>instance_group.kind</c>: KIND_GPU, KIND_CPU or KIND_AUTO.</param>
public sealed record ModelConfig(string? Name, string? Platform, int? Replicas, DeviceRequirement? Device)
{
    public const string FileName = "config.pbtxt";

    /// <summary>The largest replica count a model may ask for.</summary>
    public const int MaxReplicas = 64;
}

/// <summary>
/// Reads the subset of Triton's <c>ModelConfig</c> text format that Grid acts on:
/// <c>name</c>, <c>platform</c>, <c>backend</c> and one <c>instance_group { count kind }</c>.
/// Any other field is rejected by name rather than silently ignored, so a configuration never
/// appears to do something it does not. Pure; errors are <see cref="FormatException"/> with a
/// line number.
/// </summary>
public static class ModelConfigParser
{
    private const string MessageName = "inference.ModelConfig";
    private static readonly string[] Platforms = ["onnxruntime_onnx"];

    public static ModelConfig Parse(string text)
    {
        var reader = new TextFormatReader(text);
        string? name = null, platform = null;
        int? replicas = null;
        DeviceRequirement? device = null;
        var groups = 0;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Peek() is { } token)
        {
            if (token.Kind is TokenKind.Comma or TokenKind.Semicolon)
            {
                reader.Next();
                continue;
            }
            var field = reader.Expect(TokenKind.Identifier, "a field name").Text;
            if (field == "instance_group")
            {
                reader.TryConsume(TokenKind.Colon);
                if (reader.TryConsume(TokenKind.OpenBracket))
                {
                    while (!reader.TryConsume(TokenKind.CloseBracket))
                    {
                        ReadGroup(reader, ref groups, ref replicas, ref device);
                        reader.TryConsume(TokenKind.Comma);
                    }
                }
                else
                {
                    ReadGroup(reader, ref groups, ref replicas, ref device);
                }
                continue;
            }
            if (!seen.Add(field))
            {
                throw reader.Error($"Non-repeated field \"{field}\" is specified multiple times.");
            }
            switch (field)
            {
                case "name":
                    reader.Expect(TokenKind.Colon, "':' after name");
                    name = reader.ReadString(field);
                    break;
                case "platform":
                    reader.Expect(TokenKind.Colon, "':' after platform");
                    platform = reader.ReadString(field);
                    if (!Platforms.Contains(platform))
                    {
                        throw reader.ErrorAtPrevious($"platform \"{platform}\" is not supported; supported: {string.Join(", ", Platforms)}");
                    }
                    break;
                case "backend":
                    reader.Expect(TokenKind.Colon, "':' after backend");
                    var backend = reader.ReadString(field);
                    if (backend != "onnxruntime")
                    {
                        throw reader.ErrorAtPrevious($"backend \"{backend}\" is not supported; supported: onnxruntime");
                    }
                    platform ??= "onnxruntime_onnx";
                    break;
                default:
                    throw reader.Error($"Message type \"{MessageName}\" has no field named \"{field}\" that Grid supports (supported: name, platform, backend, instance_group).");
            }
        }
        return new ModelConfig(name, platform, replicas, device);
    }

    private static void ReadGroup(TextFormatReader reader, ref int groups, ref int? replicas, ref DeviceRequirement? device)
    {
        if (++groups > 1)
        {
            throw reader.Error("instance_group: Grid supports one instance group per model (its count and kind apply to every version)");
        }
        var close = reader.TryConsume(TokenKind.OpenBrace) ? TokenKind.CloseBrace
            : reader.TryConsume(TokenKind.OpenAngle) ? TokenKind.CloseAngle
            : throw reader.Error("instance_group is a message: write instance_group { count: N kind: KIND_GPU }");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (!reader.TryConsume(close))
        {
            if (reader.TryConsume(TokenKind.Comma) || reader.TryConsume(TokenKind.Semicolon))
            {
                continue;
            }
            var field = reader.Expect(TokenKind.Identifier, "a field name inside instance_group").Text;
            if (!seen.Add(field))
            {
                throw reader.Error($"Non-repeated field \"{field}\" in instance_group is specified multiple times.");
            }
            reader.Expect(TokenKind.Colon, $"':' after {field}");
            switch (field)
            {
                case "count":
                    var count = reader.ReadInt32("instance_group.count");
                    if (count is < 1 or > ModelConfig.MaxReplicas)
                    {
                        throw reader.ErrorAtPrevious($"instance_group.count must be between 1 and {ModelConfig.MaxReplicas}, got {count}");
                    }
                    replicas = count;
                    break;
                case "kind":
                    var kind = reader.Expect(TokenKind.Identifier, "KIND_GPU, KIND_CPU or KIND_AUTO after kind").Text;
                    if (kind == "KIND_MODEL" || !DeviceRequirements.TryParse(kind, out var parsed) || !kind.StartsWith("KIND_", StringComparison.Ordinal))
                    {
                        throw reader.ErrorAtPrevious($"instance_group.kind must be KIND_GPU, KIND_CPU or KIND_AUTO, got {kind}");
                    }
                    device = parsed;
                    break;
                default:
                    throw reader.Error($"Message type \"inference.ModelInstanceGroup\" has no field named \"{field}\" that Grid supports (supported: count, kind).");
            }
        }
    }
}
