using System.Net;
using System.Net.Sockets;

namespace PollChat.Common.Net;

/// <summary>
/// Lets any thread interrupt a <see cref="Socket.Select(System.Collections.IList, System.Collections.IList, System.Collections.IList, int)"/>
/// on another: a loopback UDP socket connected to itself, so <see cref="Wake"/> makes
/// <see cref="Socket"/> readable. Connected UDP accepts datagrams only from its own address,
/// so other local processes cannot wake the loop. Wakes coalesce: many wakes, one readable event.
/// </summary>
public sealed class WakeSignal : IDisposable
{
    private readonly Socket _socket;
    private readonly byte[] _drainBuffer = new byte[64];
    private static readonly byte[] WakeByte = [1];

    /// <summary>Binds and connects the wake socket on 127.0.0.1.</summary>
    /// <exception cref="SocketException">The loopback socket could not be created.</exception>
    public WakeSignal()
    {
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _socket.Connect(_socket.LocalEndPoint!);
        _socket.Blocking = false;
    }

    /// <summary>The socket to put in the Select read list.</summary>
    public Socket Socket => _socket;

    /// <summary>Makes <see cref="Socket"/> readable. Safe from any thread; never blocks; ignored after disposal.</summary>
    public void Wake()
    {
        try
        {
            _socket.Send(WakeByte, SocketFlags.None, out _);
        }
        catch (ObjectDisposedException)
        {
            // The loop is gone; there is nobody left to wake.
        }
    }

    /// <summary>Consumes every pending wake, on the loop's thread, so the socket stops being readable.</summary>
    public void Drain()
    {
        while (_socket.Available > 0)
        {
            _socket.Receive(_drainBuffer, SocketFlags.None, out SocketError error);
            if (error != SocketError.Success)
            {
                return;
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _socket.Dispose();
}
