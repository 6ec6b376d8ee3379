using Grid.Devices;

namespace Grid.Serving.Configuration;

/// <summary>
/// What a model's <c>config.pbtxt</c> (Triton's model configuration, at the model's base path)
/// says about how Grid deploys it. Null members were not given.
/// </summary>
/// <param name="Replicas">Triton's <c>instance_group.count</c>: replicas of every served version.</param>
/// <param name="Device">Triton's <c>instance_group.kind</c>: KIND_GPU, KIND_CPU or KIND_AUTO.</param>
/// <param name="VersionPolicy">Triton's (and TF Serving's) <c>version_policy</c>: which versions are served.</param>
public sealed record ModelConfig(string? Name, string? Platform, int? Replicas, DeviceRequirement? Device, Policies.IVersionSelectionPolicy? VersionPolicy = null)
{
    public const string FileName = "config.pbtxt";

    /// <summary>The largest replica count a model may ask for.</summary>
    public const int MaxReplicas = 64;
}

/// <summary>
/// Reads the subset of Triton's <c>ModelConfig</c> text format that Grid acts on:
/// <c>name</c>, <c>platform</c>, <c>backend</c>, <c>version_policy</c> (<c>latest { num_versions }</c>,
/// <c>all { }</c> or <c>specific { versions }</c>) and one <c>instance_group { count kind }</c>.
/// Any other field is rejected by name rather than silently ignored, so a configuration never
/// appears to do something it does not. Pure; errors are <see cref="FormatException"/> with a
/// line number.
/// </summary>
public static class ModelConfigParser
{
    private const string MessageName = "inference.ModelConfig";
    private static readonly string[] Platforms = [.. Inference.ModelFormats.All.Select(f => f.Platform)];

    public static ModelConfig Parse(string text)
    {
        var reader = new TextFormatReader(text);
        string? name = null, platform = null;
        int? replicas = null;
        DeviceRequirement? device = null;
        Policies.IVersionSelectionPolicy? versionPolicy = null;
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
                    platform ??= Inference.ModelFormats.ByBackend(backend)?.Platform
                        ?? throw reader.ErrorAtPrevious($"backend \"{backend}\" is not supported; supported: {string.Join(", ", Inference.ModelFormats.All.Select(f => f.Backend))}");
                    break;
                case "version_policy":
                    versionPolicy = ReadVersionPolicy(reader);
                    break;
                default:
                    throw reader.Error($"Message type \"{MessageName}\" has no field named \"{field}\" that Grid supports (supported: name, platform, backend, version_policy, instance_group).");
            }
        }
        return new ModelConfig(name, platform, replicas, device, versionPolicy);
    }

    private static TokenKind OpenMessage(TextFormatReader reader, string field)
    {
        reader.TryConsume(TokenKind.Colon);
        return reader.TryConsume(TokenKind.OpenBrace) ? TokenKind.CloseBrace
            : reader.TryConsume(TokenKind.OpenAngle) ? TokenKind.CloseAngle
            : throw reader.Error($"{field} is a message: write {field} {{ ... }}");
    }

    /// <summary><c>version_policy { latest { num_versions: N } | all { } | specific { versions: [..] } }</c>.</summary>
    private static Policies.IVersionSelectionPolicy ReadVersionPolicy(TextFormatReader reader)
    {
        var close = OpenMessage(reader, "version_policy");
        var kind = reader.Expect(TokenKind.Identifier, "latest, all or specific inside version_policy").Text;
        var inner = OpenMessage(reader, $"version_policy.{kind}");
        Policies.IVersionSelectionPolicy policy;
        switch (kind)
        {
            case "all":
                policy = new Policies.AllVersionSelectionPolicy();
                break;
            case "latest":
                var n = 1;
                if (reader.Peek() is { Kind: TokenKind.Identifier } t)
                {
                    if (t.Text != "num_versions")
                    {
                        throw reader.Error($"version_policy.latest has no field named \"{t.Text}\" (expected num_versions)");
                    }
                    reader.Next();
                    reader.Expect(TokenKind.Colon, "':' after num_versions");
                    n = reader.ReadInt32("version_policy.latest.num_versions");
                    if (n < 1)
                    {
                        throw reader.ErrorAtPrevious($"version_policy.latest.num_versions must be at least 1, got {n}");
                    }
                }
                policy = new Policies.LatestVersionSelectionPolicy(n);
                break;
            case "specific":
                var versions = new List<long>();
                while (reader.Peek() is { Kind: TokenKind.Identifier } v)
                {
                    if (v.Text != "versions")
                    {
                        throw reader.Error($"version_policy.specific has no field named \"{v.Text}\" (expected versions)");
                    }
                    reader.Next();
                    reader.Expect(TokenKind.Colon, "':' after versions");
                    if (reader.TryConsume(TokenKind.OpenBracket))
                    {
                        do
                        {
                            versions.Add(reader.ReadInt64("version_policy.specific.versions"));
                        }
                        while (reader.TryConsume(TokenKind.Comma));
                        reader.Expect(TokenKind.CloseBracket, "']' closing versions");
                    }
                    else
                    {
                        versions.Add(reader.ReadInt64("version_policy.specific.versions"));
                    }
                }
                if (versions.Count == 0)
                {
                    throw reader.Error("version_policy.specific needs at least one entry in versions");
                }
                policy = new Policies.SpecificVersionSelectionPolicy(versions);
                break;
            default:
                throw reader.ErrorAtPrevious($"version_policy must be latest, all or specific, got {kind}");
        }
        reader.Expect(inner, $"the end of version_policy.{kind}");
        reader.Expect(close, "the end of version_policy");
        return policy;
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
