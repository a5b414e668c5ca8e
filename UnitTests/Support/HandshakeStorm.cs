using System.Net;
using System.Net.Security;
using System.Net.Sockets;

namespace PollChat.Tests.Support;

/// <summary>
/// A bounded storm of TLS handshakes against a server: <c>concurrency</c> workers connect from
/// the given 127.0.0.x source addresses in turn, complete a handshake with .NET's client and
/// close, until <c>total</c> handshakes are done; then it stops by itself. Disposing stops it early.
/// </summary>
internal sealed class HandshakeStorm : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private int _started;
    private int _completed;
    private int _failed;

    public HandshakeStorm(IPEndPoint server, IPAddress[] sources, int concurrency, int total)
    {
        var target = new IPEndPoint(IPAddress.Loopback, server.Port);
        Finished = Task.WhenAll(Enumerable.Range(0, concurrency).Select(worker => Task.Run(() => WorkAsync(target, sources, total))));
    }

    /// <summary>Done when every handshake has been tried, or the storm was stopped.</summary>
    public Task Finished { get; }

    public int Completed => Volatile.Read(ref _completed);

    public int Failed => Volatile.Read(ref _failed);

    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            Finished.Wait(TimeSpan.FromSeconds(30));
        }
        catch (AggregateException)
        {
            // Cancelled mid-handshake: nothing to report.
        }

        _stop.Dispose();
    }

    private async Task WorkAsync(IPEndPoint target, IPAddress[] sources, int total)
    {
        for (int n; !_stop.IsCancellationRequested && (n = Interlocked.Increment(ref _started)) <= total;)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(sources[n % sources.Length], 0));
                await socket.ConnectAsync(target, _stop.Token).ConfigureAwait(false);
                await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: false));
                await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = "localhost",
                    RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null /* the test server's own, self-signed */,
                }, _stop.Token).ConfigureAwait(false);
                Interlocked.Increment(ref _completed);
            }
            catch (Exception e) when (e is IOException or SocketException or System.Security.Authentication.AuthenticationException)
            {
                Interlocked.Increment(ref _failed);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
