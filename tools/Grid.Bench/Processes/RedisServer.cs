using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Grid.Bench.Processes;

/// <summary>
/// A private <c>redis-server</c> for one configuration: 127.0.0.1 only, on a free port, no RDB
/// snapshots and no append-only file, run in a directory of the benchmark's own.
/// </summary>
public static class RedisServer
{
    /// <summary>The Debian package's path; used when redis-server is not on PATH.</summary>
    public const string DebianPath = "/usr/bin/redis-server";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Starts it and returns once it answers PING; throws <see cref="ServerStartException"/>
    /// (having killed it) if it exits or does not answer within 10 s.
    /// </summary>
    public static async Task<ChildProcess> StartAsync(int port, string directory, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var redis = ChildProcess.Start("redis-server", Executable(),
            ["--save", "", "--appendonly", "no", "--bind", "127.0.0.1", "--port", $"{port}"], directory);
        try
        {
            var waited = Stopwatch.StartNew();
            while (!await AnswersPingAsync(port, cancellationToken))
            {
                if (redis.HasExited)
                {
                    var code = await redis.ExitCodeAsync(cancellationToken);
                    throw new ServerStartException($"redis-server exited with code {code}: {redis.Tail}");
                }
                if (waited.Elapsed > StartTimeout)
                {
                    throw new ServerStartException($"redis-server did not answer PING on port {port} after {StartTimeout.TotalSeconds:0} s: {redis.Tail}");
                }
                await Task.Delay(50, cancellationToken);
            }
            return redis;
        }
        catch
        {
            await redis.DisposeAsync();
            throw;
        }
    }

    /// <summary>redis-server on PATH, else <see cref="DebianPath"/>.</summary>
    private static string Executable()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "redis-server"))
            .FirstOrDefault(File.Exists) ?? DebianPath;
    }

    private static async Task<bool> AnswersPingAsync(int port, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(1));
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", port, timeout.Token);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), timeout.Token);
            var buffer = new byte[16];
            var read = await stream.ReadAsync(buffer, timeout.Token);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
