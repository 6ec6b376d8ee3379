using System.Net;
using System.Net.Sockets;

namespace Grid.Bench.Processes;

/// <summary>Free TCP ports on 127.0.0.1.</summary>
public static class Ports
{
    /// <summary>
    /// <paramref name="count"/> distinct ports that were free a moment ago: all are bound at
    /// once before being released, so no two are the same.
    /// </summary>
    public static int[] Free(int count)
    {
        var listeners = new List<TcpListener>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                listeners.Add(listener);
            }
            return listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Stop();
            }
        }
    }
}
