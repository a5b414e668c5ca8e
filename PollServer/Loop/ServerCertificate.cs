using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PollChat.Server.Loop;

/// <summary>
/// The TLS listener's certificate: the operator's own (a PKCS#12 file), or one the server makes
/// for itself on first run and keeps in the data directory, so clients that trust it on first
/// use (as SSH does) see the same one after every restart.
/// </summary>
internal static class ServerCertificate
{
    /// <summary>The self-made certificate's file in the data directory (private key included, readable by the owner only).</summary>
    public const string FileName = "tls-certificate.pfx";

    /// <summary>Long enough that nobody has to renew a LAN server's certificate; trust comes from the pinned fingerprint, not the dates.</summary>
    private static readonly TimeSpan SelfSignedLifetime = TimeSpan.FromDays(3650);

    /// <summary>Loads <paramref name="file"/>, or the data directory's certificate, making it first if there is none; with neither, one that lasts this run.</summary>
    /// <exception cref="CryptographicException">The file is not a certificate with a private key (or needs a password).</exception>
    public static X509Certificate2 LoadOrCreate(string? file, string? dataDirectory, out bool created)
    {
        created = false;
        if (file is not null)
        {
            return X509CertificateLoader.LoadPkcs12FromFile(file, Environment.GetEnvironmentVariable("POLLCHAT_TLS_CERT_PASSWORD"));
        }

        string? path = dataDirectory is null ? null : Path.Combine(dataDirectory, FileName);
        if (path is not null && File.Exists(path))
        {
            return X509CertificateLoader.LoadPkcs12FromFile(path, null);
        }

        byte[] pkcs12 = CreateSelfSigned();
        created = true;
        if (path is not null)
        {
            File.WriteAllBytes(path, pkcs12);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }

        return X509CertificateLoader.LoadPkcs12(pkcs12, null);
    }

    private static byte[] CreateSelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={Dns.GetHostName()} (PollChat server)", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddDnsName(Dns.GetHostName());
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow + SelfSignedLifetime);
        return certificate.Export(X509ContentType.Pkcs12);
    }
}
