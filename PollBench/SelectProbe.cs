using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace PollChat.Bench;

/// <summary>
/// Measures what <see cref="Socket.Select(System.Collections.IList, System.Collections.IList, System.Collections.IList, int)"/>
/// itself allocates per call for a given number of sockets, so PollServer's own allocation can
/// be told apart from the framework's. Connections are made on loopback and closed after.
/// </summary>
internal static class SelectProbe
{
    private const int CallsPerSize = 2000;

    public static void Run(TextWriter output)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1024);
        foreach (int size in new[] { 10, 100, 1000, 5000 })
        {
            var clients = new List<Socket>();
            var accepted = new List<Socket>();
            for (int i = 0; i < size; i++)
            {
                var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                client.Connect(listener.LocalEndPoint!);
                clients.Add(client);
                accepted.Add(listener.Accept());
            }

            var list = new List<Socket>(size);
            long allocated = 0;
            for (int call = -50; call < CallsPerSize; call++)
            {
                list.Clear();
                list.AddRange(accepted);
                long before = GC.GetAllocatedBytesForCurrentThread();
                Socket.Select(list, null, null, 0);
                if (call >= 0)
                {
                    allocated += GC.GetAllocatedBytesForCurrentThread() - before; // The first 50 calls warm up the JIT.
                }
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Socket.Select over {size,5} sockets: {allocated / (double)CallsPerSize,8:0} bytes allocated per call"));
            foreach (Socket socket in clients.Concat(accepted))
            {
                socket.Dispose();
            }
        }
    }
}
