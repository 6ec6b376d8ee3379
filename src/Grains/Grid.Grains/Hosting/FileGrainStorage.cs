using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;
using Orleans.Storage;

namespace Grid.Grains.Hosting;

/// <summary>
/// Grain state as one file per grain and state name under a directory: the embedded
/// <c>grid serve</c>'s store, so experiments, overrides and the registry survive a restart
/// without Redis. Files are written whole to a temporary name and renamed over the old one, so a
/// crash leaves either the old or the new state, never half of one. The ETag is a write counter
/// kept in the file; a write with a stale ETag fails as Orleans expects.
/// </summary>
public sealed class FileGrainStorage(string directory, Serializer serializer) : IGrainStorage
{
    private const int HeaderBytes = sizeof(long);

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathFor(stateName, grainId);
        if (!File.Exists(path))
        {
            grainState.State = Activator.CreateInstance<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }
        var bytes = await File.ReadAllBytesAsync(path);
        var version = BitConverter.ToInt64(bytes, 0);
        grainState.State = serializer.Deserialize<T>(bytes.AsMemory(HeaderBytes).ToArray());
        grainState.ETag = version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathFor(stateName, grainId);
        var current = await CurrentVersionAsync(path);
        CheckETag(grainState.ETag, current, grainId);
        var next = (current ?? 0) + 1;
        var payload = serializer.SerializeToArray(grainState.State);
        var bytes = new byte[HeaderBytes + payload.Length];
        BitConverter.TryWriteBytes(bytes, next);
        payload.CopyTo(bytes, HeaderBytes);
        Directory.CreateDirectory(directory);
        var temp = path + ".tmp";
        await File.WriteAllBytesAsync(temp, bytes);
        File.Move(temp, path, overwrite: true);
        grainState.ETag = next.ToString(System.Globalization.CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathFor(stateName, grainId);
        CheckETag(grainState.ETag, await CurrentVersionAsync(path), grainId);
        File.Delete(path);
        grainState.State = Activator.CreateInstance<T>();
        grainState.ETag = null;
        grainState.RecordExists = false;
    }

    private static void CheckETag(string? etag, long? current, GrainId grainId)
    {
        var expected = current?.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (etag != expected)
        {
            throw new InconsistentStateException($"State of {grainId} changed since it was read", expected ?? "", etag ?? "");
        }
    }

    private static async Task<long?> CurrentVersionAsync(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }
        await using var file = File.OpenRead(path);
        var header = new byte[HeaderBytes];
        await file.ReadExactlyAsync(header);
        return BitConverter.ToInt64(header);
    }

    /// <summary>A readable prefix plus a hash of the full identity, so any grain key makes a valid, unique file name.</summary>
    private string PathFor(string stateName, GrainId grainId)
    {
        var identity = $"{stateName}/{grainId}";
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(identity)))[..16].ToLowerInvariant();
        var readable = new string(identity.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').Take(80).ToArray());
        return Path.Combine(directory, $"{readable}-{hash}.state");
    }
}

public static class FileGrainStorageExtensions
{
    /// <summary>Registers <see cref="FileGrainStorage"/> under <paramref name="name"/>, writing to <paramref name="directory"/>.</summary>
    public static IServiceCollection AddGridFileStorage(this IServiceCollection services, string name, string directory)
        => services.AddGrainStorage(name, (sp, _) => new FileGrainStorage(directory, sp.GetRequiredService<Serializer>()));
}
