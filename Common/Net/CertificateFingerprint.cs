using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PollChat.Common.Net;

/// <summary>How both programs write a certificate's identity: what the server logs is what the client shows and remembers.</summary>
public static class CertificateFingerprint
{
    /// <summary>"AB:CD:...": the SHA-256 of the certificate's DER bytes, as <c>openssl x509 -fingerprint -sha256</c> prints it.</summary>
    public static string Of(X509Certificate certificate) => Format(SHA256.HashData(certificate.GetRawCertData()));

    /// <summary>The same form for any hash, and a fingerprint typed by a person (any case, with or without colons) made comparable.</summary>
    public static string Normalize(string typed) => Format(Convert.FromHexString(typed.Replace(":", "", StringComparison.Ordinal)));

    /// <summary>The first four bytes, "AB:CD:EF:01": enough for a person to notice a change at a glance, short enough for a status line.</summary>
    public static string Abbreviate(string fingerprint) => fingerprint.Length > 11 ? fingerprint[..11] : fingerprint;

    private static string Format(byte[] hash) => string.Join(":", Convert.ToHexString(hash).Chunk(2).Select(pair => new string(pair)));
}
