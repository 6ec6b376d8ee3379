using System.Net;
using System.Net.Sockets;

namespace Grid.Testing;

/// <summary>
/// Ports for test servers, picked below the kernel's ephemeral range. A port the kernel hands out
/// for "port 0" comes from the range it also uses for outgoing connections, so with many test
/// processes making connections in parallel such a port could be taken by a client socket
/// before the server binds it ("address already in use"). Below the range only another test's
/// pick can collide, and picks are random, never repeated within a process, and checked free.
/// </summary>
public static class FreePort
{
    private static readonly HashSet<int> Handed = [];
    private static readonly (int Low, int High) Range = PickRange();

    /// <summary>A TCP port on 127.0.0.1 that was free a moment ago and that this process has not handed out before.</summary>
    public static int Next()
    {
        lock (Handed)
        {
            for (var attempt = 0; attempt < 1000; attempt++)
            {
                var port = Random.Shared.Next(Range.Low, Range.High);
                if (!Handed.Contains(port) && IsFree(port))
                {
                    Handed.Add(port);
                    return port;
                }
            }
        }
        throw new InvalidOperationException($"no free port found between {Range.Low} and {Range.High}");
    }

    private static bool IsFree(int port)
    {
        try
        {
            var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Up to 16,000 ports just below the ephemeral range (/proc/sys/net/ipv4/ip_local_port_range; Linux's default starts at 32768).</summary>
    private static (int, int) PickRange()
    {
        var ephemeralLow = 32768;
        try
        {
            var text = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            ephemeralLow = int.Parse(text[0], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            // Not Linux, or not readable: keep the default.
        }
        var high = Math.Max(2048, ephemeralLow);
        return (Math.Max(1024, high - 16000), high);
    }
}
