using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using PollChat.Common.Net;

namespace PollChat.Server;

/// <summary>
/// TLS inside the one loop: each TLS client's <see cref="TlsChannel"/> is fed what its socket
/// received and drained into it, on the loop thread, so a handshake or a record costs the loop a
/// little CPU and nothing else: no thread per connection, no thread-pool hop, no blocking.
/// </summary>
public sealed partial class ChatServer
{
    private SslServerAuthenticationOptions? _tlsOptions;

    /// <summary>Loads or makes the certificate, logs its fingerprint, and runs one handshake in memory so the first client's does not pay for loading the TLS library.</summary>
    private void PrepareTls()
    {
        X509Certificate2 certificate = ServerCertificate.LoadOrCreate(_options.TlsCertificateFile, _options.DataDirectory, out bool created);
        _tlsOptions = new SslServerAuthenticationOptions
        {
            ServerCertificateContext = SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true),
            ClientCertificateRequired = false,
        };
        Log.Info("TLS certificate {How}: SHA-256 fingerprint {Fingerprint}",
            _options.TlsCertificateFile is not null ? $"from {_options.TlsCertificateFile}" : created ? "made for this server" : "of this server",
            CertificateFingerprint.Of(certificate));
        WarmUp(CertificateFingerprint.Of(certificate));
    }

    private void WarmUp(string fingerprint)
    {
        using TlsChannel server = TlsChannel.ForServer(_tlsOptions!);
        using TlsChannel client = TlsChannel.ForClient(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && CertificateFingerprint.Of(presented) == fingerprint,
        });
        for (int round = 0; round < 10 && !(server.IsOpen && client.IsOpen); round++)
        {
            server.Feed(client.CipherPending);
            client.ConsumeCipher(client.CipherPending.Length);
            client.Feed(server.CipherPending);
            server.ConsumeCipher(server.CipherPending.Length);
        }
    }

    /// <summary>The live connections' share of the TLS calls made off the loop thread (the design says none); for the counters line.</summary>
    private long TlsCallsOffLoopLive() => _connections.Sum(c => c.Tls?.CallsOffOwnerThread ?? 0);

    /// <summary>Feeds received ciphertext to the client's TLS session and handles whatever plaintext comes out; returns whether a frame was finished.</summary>
    private bool DecryptAndDecode(ClientConnection client, ReadOnlySpan<byte> cipher, long now)
    {
        TlsChannel tls = client.Tls!;
        tls.Feed(cipher);
        bool finishedAFrame = false;
        while (client.State != ClientState.Closing && tls.TryReadPlaintext(out ReadOnlySpan<byte> plaintext))
        {
            finishedAFrame |= DecodeFrames(client, plaintext, now);
        }

        if (tls.Failure is { } failure)
        {
            client.PeerGone = true; // Nothing readable can be sent to a peer whose TLS failed.
            Disconnect(client, CloseReason.BadTls, notice: null, now, detail: failure.Message);
        }
        else if (tls.PeerClosed)
        {
            Disconnect(client, CloseReason.ClosedByPeer, notice: null, now);
        }
        else if (!tls.CipherPending.IsEmpty)
        {
            ScheduleFlush(client); // Handshake messages to answer with.
        }

        return finishedAFrame;
    }
}
