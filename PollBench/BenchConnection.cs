using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;

namespace PollChat.Bench;

/// <summary>
/// One benchmark connection: its socket, its receive buffer, the protocol's parsing state, and
/// the checks on everything it receives. Its receive loop is the only code touching its fields
/// while the run lasts, so nothing here is shared or locked; the run sums them at the end.
/// </summary>
internal sealed class BenchConnection : IDeliverySink, IDisposable
{
    /// <summary>Room for a few hundred small messages per receive, so one system call carries many deliveries; grows only for large payloads.</summary>
    private const int InitialBufferBytes = 16 * 1024;

    private readonly BenchRun _run;
    private readonly IBenchProtocol _protocol;
    private readonly object _state;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private byte[] _buffer = new byte[InitialBufferBytes];
    private int _buffered;
    private long _receivedAt;
    private SslStream? _tls;

    public BenchConnection(BenchRun run, IBenchProtocol protocol, Socket socket, int senderCount)
    {
        _run = run;
        _protocol = protocol;
        _state = protocol.CreateState();
        Socket = socket;
        ReceivedFrom = new long[senderCount];
        NextExpected = new long[senderCount];
    }

    public Socket Socket { get; }

    public Task Ready => _ready.Task;

    public LatencyHistogram Latency { get; } = new();

    /// <summary>Deliveries counted per sender, to find losses and duplicates at the end.</summary>
    public long[] ReceivedFrom { get; }

    /// <summary>The sequence number expected next from each sender: anything else is out of order.</summary>
    public long[] NextExpected { get; }

    public long Deliveries { get; private set; }

    public long OutOfOrder { get; private set; }

    public long Foreign { get; private set; }

    /// <summary>Set when the server closed or broke this connection while the run still needed it.</summary>
    public string? Failure { get; private set; }

    public void MarkReady() => _ready.TrySetResult();

    /// <summary>
    /// Makes this a TLS connection: the handshake with .NET's client, accepting the server's
    /// certificate as it is (the benchmark's own loopback server; trust is not what is measured).
    /// From here on every byte goes through the SslStream, which allows one read and one write at once.
    /// </summary>
    public async Task StartTlsAsync()
    {
        _tls = new SslStream(new NetworkStream(Socket, ownsSocket: false));
        await _tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null,
        }).ConfigureAwait(false);
    }

    /// <summary>Sends bytes whole, over TLS when the connection has it; one sender per connection at a time.</summary>
    public async ValueTask SendAsync(ReadOnlyMemory<byte> bytes)
    {
        if (_tls is null)
        {
            await Socket.SendAsync(bytes, SocketFlags.None, CancellationToken.None).ConfigureAwait(false);
        }
        else
        {
            await _tls.WriteAsync(bytes, CancellationToken.None).ConfigureAwait(false);
        }
    }

    public async Task ReceiveLoopAsync(CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                if (_buffered == _buffer.Length)
                {
                    Array.Resize(ref _buffer, _buffer.Length * 2);
                }

                int received = _tls is null
                    ? await Socket.ReceiveAsync(_buffer.AsMemory(_buffered), SocketFlags.None, stop).ConfigureAwait(false)
                    : await _tls.ReadAsync(_buffer.AsMemory(_buffered), stop).ConfigureAwait(false);
                if (received == 0)
                {
                    Fail("the server closed the connection");
                    return;
                }

                _buffered += received;
                _receivedAt = Stopwatch.GetTimestamp(); // One clock read per batch: every message in it arrived by now.
                int consumed = _protocol.Parse(_buffer.AsSpan(0, _buffered), _state, this);
                _buffer.AsSpan(consumed, _buffered - consumed).CopyTo(_buffer);
                _buffered -= consumed;
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over.
        }
        catch (SocketException e)
        {
            Fail($"socket error {e.SocketErrorCode}");
        }
        catch (ObjectDisposedException)
        {
            // Closed by the run at the end.
        }
        catch (InvalidDataException e)
        {
            Fail(e.Message);
        }
        catch (IOException e) when (stop.IsCancellationRequested || e.InnerException is SocketException or ObjectDisposedException)
        {
            // TLS wraps the socket's errors; a closed socket at the end of the run is not a failure.
            if (!stop.IsCancellationRequested)
            {
                Fail(e.InnerException is SocketException se ? $"socket error {se.SocketErrorCode}" : e.Message);
            }
        }
    }

    public void OnReady() => _ready.TrySetResult();

    /// <summary>Closes the socket (and TLS over it) at the end of the run.</summary>
    public void Dispose()
    {
        _tls?.Dispose();
        Socket.Dispose();
    }

    public void OnDelivery(ReadOnlySpan<byte> payload)
    {
        if (!BenchPayload.TryRead(payload, out int sender, out long sequence, out long timestamp) || sender >= ReceivedFrom.Length)
        {
            Foreign++;
            return;
        }

        Latency.Record((_receivedAt - timestamp) * 1_000_000 / Stopwatch.Frequency);
        Deliveries++;
        ReceivedFrom[sender]++;
        if (sequence != NextExpected[sender])
        {
            OutOfOrder++;
        }

        NextExpected[sender] = Math.Max(NextExpected[sender], sequence + 1);
        _run.Delivered(sender, sequence);
    }

    public void Reply(ReadOnlySpan<byte> bytes)
    {
        if (_tls is null)
        {
            Socket.Send(bytes);
        }
        else
        {
            _tls.Write(bytes); // IRC's PONG: rare, and only where the run writes nothing else at the moment.
        }
    }

    private void Fail(string why)
    {
        Failure ??= why;
        _ready.TrySetException(new IOException(why));
        _run.ConnectionFailed(this, why);
    }
}
