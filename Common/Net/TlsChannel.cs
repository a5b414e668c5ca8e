using System.Net.Security;
using System.Threading.Tasks.Sources;

namespace PollChat.Common.Net;

/// <summary>
/// TLS for a connection that an event loop drives, without a thread or a task of its own. The
/// loop feeds in what the socket received (<see cref="Feed"/>), takes out what to send
/// (<see cref="CipherPending"/>), and reads and writes plaintext. Underneath, an
/// <see cref="SslStream"/> talks to an in-memory transport whose reads complete inline, when
/// <see cref="Feed"/> is called: SslStream's continuations therefore run on the caller's thread,
/// inside that call, and never on the thread pool. It knows nothing of sockets.
/// </summary>
public sealed class TlsChannel : IDisposable
{
    /// <summary>The largest TLS record's plaintext: one read returns at most this.</summary>
    private const int PlaintextChunkBytes = 16 * 1024;

    private readonly LoopTransport _transport = new();
    private readonly SslStream _ssl;
    private readonly Task _handshake;
    private readonly byte[] _plaintext = new byte[PlaintextChunkBytes];
    private ValueTask<int> _read;
    private bool _reading;
    private bool _shutDown;

    private TlsChannel(Func<SslStream, Task> authenticate)
    {
        _transport.OwnerThreadId = Environment.CurrentManagedThreadId;
        _ssl = new SslStream(_transport, leaveInnerStreamOpen: false);
        _handshake = authenticate(_ssl);
    }

    /// <summary>Whether the handshake is done and records flow (until either side's close_notify).</summary>
    public bool IsOpen => _handshake.IsCompletedSuccessfully && Failure is null && !PeerClosed && !_shutDown;

    /// <summary>Whether the handshake is still going: neither done nor failed.</summary>
    public bool IsHandshaking => !_handshake.IsCompleted;

    /// <summary>Why the session cannot go on (a failed handshake, a bad record); null while it can.</summary>
    public Exception? Failure { get; private set; }

    /// <summary>The peer ended the TLS session (close_notify).</summary>
    public bool PeerClosed { get; private set; }

    /// <summary>Ciphertext waiting to be sent: handshake messages, encrypted records.</summary>
    public ReadOnlySpan<byte> CipherPending => _transport.Outgoing;

    /// <summary>Transport calls made on another thread than the one that created the channel: 0 while every continuation runs inline, as designed.</summary>
    public long CallsOffOwnerThread => _transport.CallsOffOwnerThread;

    /// <summary>The server side: the handshake starts now and waits for the client's hello.</summary>
    public static TlsChannel ForServer(SslServerAuthenticationOptions options) =>
        new(ssl => ssl.AuthenticateAsServerAsync(options, CancellationToken.None));

    /// <summary>The client side: the client hello is in <see cref="CipherPending"/> as soon as this returns.</summary>
    public static TlsChannel ForClient(SslClientAuthenticationOptions options) =>
        new(ssl => ssl.AuthenticateAsClientAsync(options, CancellationToken.None));

    /// <summary>Hands over bytes received from the peer; the handshake and any pending read advance inside this call.</summary>
    public void Feed(ReadOnlySpan<byte> cipher)
    {
        _transport.Feed(cipher);
        if (_handshake.IsFaulted)
        {
            Failure ??= _handshake.Exception!.InnerException ?? _handshake.Exception;
        }
    }

    /// <summary>
    /// Returns the next decrypted chunk, if one is ready; the span is valid until the next call.
    /// False when there is none yet (or the session ended: see <see cref="Failure"/> and
    /// <see cref="PeerClosed"/>).
    /// </summary>
    public bool TryReadPlaintext(out ReadOnlySpan<byte> plaintext)
    {
        plaintext = default;
        if (!_handshake.IsCompletedSuccessfully || Failure is not null || PeerClosed)
        {
            return false;
        }

        if (!_reading)
        {
            // Kept, polled with IsCompleted and read once with Result: the one use a value task allows, without a Task per record.
#pragma warning disable CA2012
            _read = _ssl.ReadAsync(_plaintext);
#pragma warning restore CA2012
            _reading = true;
        }

        if (!_read.IsCompleted)
        {
            return false;
        }

        _reading = false;
        try
        {
            int count = _read.Result;
            PeerClosed = count == 0;
            plaintext = _plaintext.AsSpan(0, count);
            return count > 0;
        }
        catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
        {
            Failure = e;
            return false;
        }
    }

    /// <summary>Encrypts plaintext into <see cref="CipherPending"/>. Only once <see cref="IsOpen"/>, and not after <see cref="Shutdown"/>.</summary>
    public void Write(ReadOnlySpan<byte> plaintext) => _ssl.Write(plaintext);

    /// <summary>
    /// Queues a close_notify in <see cref="CipherPending"/>, once, when the handshake is done and
    /// the session has not failed: the peer then knows the stream ended where it did, and was not
    /// cut off. Nothing is written after it. Completes inside the call: the transport's writes only append.
    /// </summary>
    public void Shutdown()
    {
        if (_shutDown || !_handshake.IsCompletedSuccessfully || Failure is not null)
        {
            return;
        }

        _shutDown = true;
        Task sent = _ssl.ShutdownAsync();
        if (sent.IsFaulted)
        {
            Failure = sent.Exception!.InnerException ?? sent.Exception; // Observed here, so it is not rethrown by the finalizer thread.
        }
    }

    /// <summary>Marks <paramref name="count"/> bytes of <see cref="CipherPending"/> as sent.</summary>
    public void ConsumeCipher(int count) => _transport.ConsumeOutgoing(count);

    /// <summary>Frees the session without a close_notify (see <see cref="Shutdown"/>): the socket is closed by its owner.</summary>
    public void Dispose()
    {
        _ssl.Dispose();
        _transport.Dispose();
    }

    /// <summary>
    /// The stream under the SslStream: received bytes are queued by <see cref="Feed"/>, and a read
    /// that finds none waits, as a value task completed inline by the next feed. Writes only append.
    /// </summary>
    private sealed class LoopTransport : Stream, IValueTaskSource<int>
    {

        private byte[] _incoming = new byte[4096];
        private int _incomingStart;
        private int _incomingEnd;
        private byte[] _outgoing = new byte[4096];
        private int _outgoingStart;
        private int _outgoingEnd;

        private ManualResetValueTaskSourceCore<int> _pendingRead;
        private Memory<byte> _pendingInto;
        private bool _readPending;

        public int OwnerThreadId { get; set; }

        public long CallsOffOwnerThread { get; private set; }

        public ReadOnlySpan<byte> Outgoing => _outgoing.AsSpan(_outgoingStart, _outgoingEnd - _outgoingStart);

        public override bool CanRead => true;

        public override bool CanWrite => true;

        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public void Feed(ReadOnlySpan<byte> data)
        {
            CountForeignThread();
            Append(ref _incoming, ref _incomingStart, ref _incomingEnd, data);
            CompletePendingRead();
        }

        public void ConsumeOutgoing(int count)
        {
            _outgoingStart += count;
            if (_outgoingStart == _outgoingEnd)
            {
                _outgoingStart = _outgoingEnd = 0;
            }
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            CountForeignThread();
            if (_incomingEnd > _incomingStart)
            {
                return new ValueTask<int>(TakeIncoming(buffer.Span));
            }

            _pendingInto = buffer;
            _readPending = true;
            _pendingRead.Reset();
            return new ValueTask<int>(this, _pendingRead.Version);
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            CountForeignThread();
            Append(ref _outgoing, ref _outgoingStart, ref _outgoingEnd, buffer);
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Write(buffer.AsSpan(offset, count));
            return Task.CompletedTask;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Only asynchronous reads: a blocking read would stall the loop.");

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        int IValueTaskSource<int>.GetResult(short token) => _pendingRead.GetResult(token);

        ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _pendingRead.GetStatus(token);

        void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _pendingRead.OnCompleted(continuation, state, token, flags);

        private void CompletePendingRead()
        {
            if (!_readPending || _incomingEnd == _incomingStart)
            {
                return;
            }

            _readPending = false;
            int count = TakeIncoming(_pendingInto.Span);
            _pendingInto = default;
            _pendingRead.SetResult(count); // Runs SslStream's continuation here, on the feeding thread.
        }

        private int TakeIncoming(Span<byte> destination)
        {
            int count = Math.Min(destination.Length, _incomingEnd - _incomingStart);
            _incoming.AsSpan(_incomingStart, count).CopyTo(destination);
            _incomingStart += count;
            if (_incomingStart == _incomingEnd)
            {
                _incomingStart = _incomingEnd = 0;
            }

            return count;
        }

        private static void Append(ref byte[] buffer, ref int start, ref int end, ReadOnlySpan<byte> data)
        {
            if (buffer.Length - end < data.Length)
            {
                int used = end - start;
                if (buffer.Length - used < data.Length)
                {
                    Array.Resize(ref buffer, Math.Max(buffer.Length * 2, used + data.Length));
                }

                buffer.AsSpan(start, used).CopyTo(buffer);
                start = 0;
                end = used;
            }

            data.CopyTo(buffer.AsSpan(end));
            end += data.Length;
        }

        private void CountForeignThread()
        {
            if (Environment.CurrentManagedThreadId != OwnerThreadId)
            {
                CallsOffOwnerThread++; // Only a hop makes this non-zero; racing increments would still count more than 0.
            }
        }
    }
}
