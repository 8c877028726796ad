using System.Net;
using System.Net.Sockets;

namespace Orleans.Trade.Tests.Infrastructure;

public static class FreePorts
{
    private static readonly HashSet<int> Handed = [];

    /// <summary>A loopback port free right now and not handed out before in this test run.</summary>
    public static int Next()
    {
        lock (Handed)
        {
            while (true)
            {
                using var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                listener.Stop();
                if (Handed.Add(port))
                {
                    return port;
                }
            }
        }
    }

    /// <summary>The first of <paramref name="count"/> consecutive free loopback ports (for scripts that take a base port).</summary>
    public static int NextRun(int count)
    {
        lock (Handed)
        {
            for (var attempt = 0; attempt < 200; attempt++)
            {
                var first = Random.Shared.Next(20_000, 60_000);
                var ports = Enumerable.Range(first, count).ToArray();
                if (ports.All(p => !Handed.Contains(p) && IsFree(p)))
                {
                    Handed.UnionWith(ports);
                    return first;
                }
            }
            throw new InvalidOperationException($"No run of {count} free ports found.");
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
