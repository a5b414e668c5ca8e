using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using PollChat.Server;
using PollChat.Tests.Support;

namespace PollChat.Tests.Process;

/// <summary>An operator's own certificate (--tls-cert) and a client that validates it against a CA (--tls-ca).</summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class OwnCertificateTests
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(15);

    [Test]
    public void A_server_with_its_own_certificate_is_accepted_by_a_client_trusting_its_CA_and_refused_under_another()
    {
        string directory = TestServer.NewDataDirectory();
        Directory.CreateDirectory(directory);
        string leafPfx = Path.Combine(directory, "server.pfx");
        string caPem = Path.Combine(directory, "ca.pem");
        string otherCaPem = Path.Combine(directory, "other-ca.pem");
        using (X509Certificate2 ca = MakeCa("CN=Test CA"))
        using (X509Certificate2 otherCa = MakeCa("CN=Other CA"))
        {
            File.WriteAllBytes(leafPfx, MakeLeafSignedBy(ca));
            File.WriteAllText(caPem, ca.ExportCertificatePem());
            File.WriteAllText(otherCaPem, otherCa.ExportCertificatePem());
        }

        try
        {
            using var server = TestServer.Start(new ServerOptions { TlsPort = 0, TlsCertificateFile = leafPfx });
            string port = server.TlsEndPoint!.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            using (RawClient probe = RawClient.ConnectTls(server.TlsEndPoint!))
            using (X509Certificate2 served = X509CertificateLoader.LoadPkcs12FromFile(leafPfx, null))
            {
                Assert.That(probe.ServerFingerprint, Is.EqualTo(PollChat.Common.Net.CertificateFingerprint.Of(served)));
            }

            var environment = new Dictionary<string, string> { ["POLLCHAT_CONFIG_DIR"] = directory };
            using (RunningProcess trusting = RunningProcess.Client(environment, "--host", "127.0.0.1", "--port", port, "--user", "alice", "--tls-ca", caPem))
            {
                trusting.WaitForLine("Rich mode 1 on");
                trusting.Input.Close();
                Assert.That(trusting.WaitForExit(ExitTimeout), Is.Zero, trusting.Transcript);
            }

            using RunningProcess doubting = RunningProcess.Client(environment, "--host", "127.0.0.1", "--port", port, "--user", "bob", "--tls-ca", otherCaPem);
            Assert.That(doubting.WaitForExit(ExitTimeout), Is.EqualTo(5), doubting.Transcript);
            Assert.That(doubting.Transcript, Does.Contain($"does not validate against {otherCaPem} for the name 127.0.0.1"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Test]
    public void A_certificate_file_that_is_not_one_stops_the_start_with_exit_5()
    {
        string file = Path.Combine(Path.GetTempPath(), "pollchat-test-data", Guid.NewGuid().ToString("N") + ".pfx");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllText(file, "not a certificate");

        using RunningProcess server = RunningProcess.Server("--port", "0", "--tls-port", "0", "--tls-cert", file);

        Assert.That(server.WaitForExit(ExitTimeout), Is.EqualTo(5));
        Assert.That(server.Transcript, Does.Contain($"PollServer: cannot use the TLS certificate {file}: "));
        File.Delete(file);
    }

    private static X509Certificate2 MakeCa(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    private static byte[] MakeLeafSignedBy(X509Certificate2 ca)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=chat.example", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using X509Certificate2 signed = request.Create(ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(7), [1, 2, 3, 4]);
        using X509Certificate2 withKey = signed.CopyWithPrivateKey(key);
        return withKey.Export(X509ContentType.Pkcs12);
    }
}
