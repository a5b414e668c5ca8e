using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using PollChat.Common.Net;

namespace PollChat.Server.Loop;

/// <summary>
/// TLS inside the one loop: each TLS client's <see cref="TlsChannel"/> is fed what its socket
/// received and drained into it, on the loop thread, so a handshake or a record costs the loop a
/// little CPU and nothing else: no thread per connection, no thread-pool hop, no blocking.
/// A handshake's CPU is the one cost that is not little (about a millisecond), so each
/// iteration feeds only a few handshaking connections, one per address; the others' bytes wait
/// in their sockets, and chat between two iterations never waits behind a storm of handshakes.
/// This class owns the certificate's server options and that per-iteration budget; decrypting and
/// encrypting live behind <see cref="ClientConnection"/>.
/// </summary>
internal sealed class TlsSessions(ServerOptions options, ServerCounters counters)
{
    private static readonly NLog.Logger Log = NLog.LogManager.GetLogger(typeof(ChatServer).FullName!);

    private SslServerAuthenticationOptions? _tlsOptions;

    // The addresses of the handshaking connections fed in this iteration; its length is the budget, so the search is of a few entries.
    private string?[] _handshakeAddresses = [];
    private int _handshakesThisRound;

    /// <summary>Loads or makes the certificate, logs its fingerprint, and runs one handshake in memory so the first client's does not pay for loading the TLS library.</summary>
    public void Prepare()
    {
        X509Certificate2 certificate = ServerCertificate.LoadOrCreate(options.TlsCertificateFile, options.DataDirectory, out bool created);
        _tlsOptions = new SslServerAuthenticationOptions
        {
            ServerCertificateContext = SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true),
            ClientCertificateRequired = false,
        };
        Log.Info("TLS certificate {How}: SHA-256 fingerprint {Fingerprint}",
            options.TlsCertificateFile is not null ? $"from {options.TlsCertificateFile}" : created ? "made for this server" : "of this server",
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

    /// <summary>A new TLS client's session; the handshake it starts is loop time, counted as such.</summary>
    public TlsChannel NewSession()
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        TlsChannel session = TlsChannel.ForServer(_tlsOptions!);
        counters.TlsHandshakeTicks += System.Diagnostics.Stopwatch.GetTimestamp() - started;
        return session;
    }

    /// <summary>A new iteration: its handshake budget is whole again.</summary>
    public void StartRound()
    {
        if (_handshakeAddresses.Length != options.TlsHandshakesPerIteration)
        {
            _handshakeAddresses = new string?[options.TlsHandshakesPerIteration];
        }

        _handshakesThisRound = 0;
    }

    /// <summary>
    /// Whether a ready client is left unread in this iteration: it is mid-handshake, and the
    /// iteration has fed as many handshakes as it may, or one from the same address. It stays in
    /// the read list, so the next iteration comes at once and looks again.
    /// </summary>
    public bool HandshakeWaits(ClientConnection client)
    {
        if (options.TlsHandshakesPerIteration == 0 || client.Tls is not { IsHandshaking: true } || client.IsClosing)
        {
            return false;
        }

        bool budgetSpent = _handshakesThisRound == _handshakeAddresses.Length
            || Array.IndexOf(_handshakeAddresses, client.Address, 0, _handshakesThisRound) >= 0;
        if (budgetSpent)
        {
            counters.TlsHandshakesDeferred++;
            return true;
        }

        _handshakeAddresses[_handshakesThisRound++] = client.Address;
        return false;
    }

    /// <summary>The live connections' share of the TLS calls made off the loop thread (the design says none); for the counters line.</summary>
    public static long CallsOffLoopLive(List<ClientConnection> connections) => connections.Sum(c => c.Tls?.CallsOffOwnerThread ?? 0);
}
