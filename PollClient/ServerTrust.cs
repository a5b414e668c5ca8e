using System.Net.Security;
using PollChat.Common.Net;
using System.Security.Cryptography.X509Certificates;

namespace PollChat.Client;

/// <summary>
/// Whether to trust a TLS server's certificate. Like SSH: the first connection to a host and
/// port shows the certificate's fingerprint and remembers it in <c>known_servers</c>; a later
/// different certificate is refused. Or the user pins a fingerprint (<c>--tls-fingerprint</c>),
/// or names a CA whose chain must validate with the host's name (<c>--tls-ca</c>).
/// </summary>
public sealed class ServerTrust(string host, int port, string? pinnedFingerprint, string? caFile, string knownServersFile)
{
    /// <summary>Where fingerprints are remembered unless <c>POLLCHAT_CONFIG_DIR</c> says otherwise: ~/.config/pollchat/known_servers.</summary>
    public static string DefaultKnownServersFile =>
        Path.Combine(Environment.GetEnvironmentVariable("POLLCHAT_CONFIG_DIR") is { Length: > 0 } dir ? dir
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData), "pollchat"), "known_servers");

    /// <summary>After a handshake: what the user must be told (first use, or why the certificate was refused); null if nothing.</summary>
    public string? Verdict { get; private set; }

    /// <summary>The fingerprint of the certificate the server presented, once it has presented one.</summary>
    public string? Fingerprint { get; private set; }

    /// <summary>Whether the certificate was refused, so the connection must not be used.</summary>
    public bool Refused { get; private set; }

    private string Key => $"{host}:{port}";

    /// <summary>For <see cref="SslClientAuthenticationOptions.RemoteCertificateValidationCallback"/>.</summary>
    public bool Validate(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null)
        {
            return Refuse("the server presented no certificate");
        }

        string fingerprint = CertificateFingerprint.Of(certificate);
        Fingerprint = fingerprint;
        if (pinnedFingerprint is not null)
        {
            return IsSame(pinnedFingerprint, fingerprint)
                || Refuse($"the server's certificate has fingerprint {fingerprint}, not the {pinnedFingerprint} given with --tls-fingerprint");
        }

        if (caFile is not null)
        {
            return ValidatesAgainst(caFile, certificate, errors) ? true : Refuse($"the server's certificate does not validate against {caFile} for the name {host}");
        }

        string? known = Known();
        if (known is null)
        {
            Remember(fingerprint);
            Verdict = $"First connection to {Key} with TLS: its certificate's SHA-256 fingerprint is {fingerprint}. Remembered in {knownServersFile}; ask the server's operator whether it is theirs.";
            return true;
        }

        return known.Equals(fingerprint, StringComparison.OrdinalIgnoreCase) || Refuse(
            $"WARNING: THE CERTIFICATE OF {Key} HAS CHANGED. It was {known}, it is now {fingerprint}. Someone may be intercepting the connection, or the server got a new certificate. " +
            $"Not connecting. If the operator confirms the change, delete the line for {Key} in {knownServersFile}");
    }

    /// <summary>A typed fingerprint matches in any case, with or without colons; one that is not hex matches nothing.</summary>
    private static bool IsSame(string typed, string fingerprint)
    {
        try
        {
            return CertificateFingerprint.Normalize(typed) == fingerprint;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private bool Refuse(string why)
    {
        Refused = true;
        Verdict = why;
        return false;
    }

    private static bool ValidatesAgainst(string caPemFile, X509Certificate certificate, SslPolicyErrors errors)
    {
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.CustomTrustStore.ImportFromPemFile(caPemFile);
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(leaf);
    }

    private string? Known()
    {
        if (!File.Exists(knownServersFile))
        {
            return null;
        }

        foreach (string line in File.ReadLines(knownServersFile))
        {
            string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && parts[0] == Key)
            {
                return parts[1];
            }
        }

        return null;
    }

    private void Remember(string fingerprint)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(knownServersFile)!);
        File.AppendAllText(knownServersFile, $"{Key} {fingerprint}\n");
    }
}
