using System.Security.Cryptography.X509Certificates;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Listeners;
using LwsPlugins.Tests.Common;
using Microsoft.Extensions.Time.Testing;

namespace LwsPlugins.Host.Tests.Listeners;

/// <summary>A vhost's TLS files: every way they can be wrong is refused with the vhost, the key and the file named.</summary>
[TestFixture]
public sealed class VhostTlsTests
{
    private TestCertificates _certificates = null!;
    private string _certificate = null!;
    private string _key = null!;

    [SetUp]
    public void WriteFiles()
    {
        _certificates = new TestCertificates();
        (_certificate, _key) = _certificates.WritePem(_certificates.ServerCertificate("site.test"), "site");
    }

    [TearDown]
    public void RemoveFiles() => _certificates.Dispose();

    [Test]
    public void MatchingFiles_Load()
    {
        using var tls = VhostTls.Load("site", new VhostTlsOptions { Certificate = _certificate, Key = _key }, "/", TimeProvider.System);

        Assert.That(tls.Certificate.HasPrivateKey, Is.True);
        Assert.That(tls.Certificate.Subject, Is.EqualTo("CN=site.test"));
    }

    [Test]
    public void Expiry_IsJudgedByTheEngineClock()
    {
        // A valid certificate (a year long) on a clock set past its end is refused, so expiry follows the TimeProvider.
        using var certificate = X509CertificateLoader.LoadCertificateFromFile(_certificate);
        var afterExpiry = new FakeTimeProvider(new DateTimeOffset(certificate.NotAfter.ToUniversalTime()).AddDays(1));

        var error = Assert.Throws<LwsConfigurationException>(
            () => VhostTls.Load("site", new VhostTlsOptions { Certificate = _certificate, Key = _key }, "/", afterExpiry))!;

        Assert.That(error.Message, Does.StartWith($"vhost 'site': tls.certificate: the certificate in '{_certificate}' expired on "));
    }

    [Test]
    public void RelativePaths_AreResolvedAgainstTheBaseDirectory()
    {
        using var tls = VhostTls.Load("site", new VhostTlsOptions { Certificate = Path.GetFileName(_certificate), Key = Path.GetFileName(_key) }, _certificates.Folder, TimeProvider.System);

        Assert.That(tls.Certificate.Subject, Is.EqualTo("CN=site.test"));
    }

    [Test]
    public void MissingCertificateFile_NamesTheVhostKeyAndFile()
    {
        var missing = Path.Combine(_certificates.Folder, "nope.pem");

        Assert.That(Refusal(missing, _key), Does.StartWith("vhost 'site': tls.certificate: file '" + missing + "' does not exist"));
    }

    [Test]
    public void MissingKeyFile_NamesTheVhostKeyAndFile()
    {
        var missing = Path.Combine(_certificates.Folder, "no-key.pem");

        Assert.That(Refusal(_certificate, missing), Does.StartWith("vhost 'site': tls.key: file '" + missing + "' does not exist"));
    }

    [Test]
    public void FolderInsteadOfAFile_CannotBeRead()
        => Assert.That(Refusal(_certificates.Folder, _key), Does.StartWith($"vhost 'site': tls.certificate: cannot read '{_certificates.Folder}': it is a folder, not a file"));

    [Test]
    public void FileWithoutACertificate_IsNotPem()
    {
        var text = _certificates.WriteFile("text.pem", "hello\n");

        Assert.That(Refusal(text, _key), Does.StartWith($"vhost 'site': tls.certificate: '{text}' holds no PEM certificate"));
    }

    [Test]
    public void CertificateFileGivenAsTheKey_HoldsNoPrivateKey()
        => Assert.That(Refusal(_certificate, _certificate), Does.StartWith($"vhost 'site': tls.key: '{_certificate}' holds no PEM private key"));

    [Test]
    public void EncryptedKey_IsRefusedWithHowToDecryptIt()
    {
        var encrypted = _certificates.WriteFile("encrypted.pem", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n");

        Assert.That(Refusal(_certificate, encrypted), Does.StartWith($"vhost 'site': tls.key: '{encrypted}' holds an encrypted private key"));
    }

    [Test]
    public void KeyOfAnotherCertificate_DoesNotMatch()
    {
        var (_, otherKey) = _certificates.WritePem(_certificates.ServerCertificate("other.test"), "other");

        Assert.That(Refusal(_certificate, otherKey), Is.EqualTo($"vhost 'site': tls.key: the private key in '{otherKey}' does not match the certificate in '{_certificate}'."));
    }

    [Test]
    public void ExpiredCertificate_SaysWhen()
    {
        using var key = System.Security.Cryptography.ECDsa.Create();
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=old.test", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        using var expired = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-10), DateTimeOffset.UtcNow.AddDays(-1));
        var (certificate, keyFile) = _certificates.WritePem(expired, "expired");

        Assert.That(Refusal(certificate, keyFile), Does.StartWith($"vhost 'site': tls.certificate: the certificate in '{certificate}' expired on "));
    }

    [Test]
    public void MissingCaFile_NamesTheVhostKeyAndFile()
    {
        var missing = Path.Combine(_certificates.Folder, "ca.pem");
        var options = new VhostTlsOptions { Certificate = _certificate, Key = _key, Ca = missing, ClientCertificate = TlsClientCertificateMode.Required };

        var error = Assert.Throws<LwsConfigurationException>(() => VhostTls.Load("site", options, "/", TimeProvider.System))!;

        Assert.That(error.Message, Does.StartWith($"vhost 'site': tls.ca: file '{missing}' does not exist"));
    }

    private static string Refusal(string certificate, string key)
        => Assert.Throws<LwsConfigurationException>(() => VhostTls.Load("site", new VhostTlsOptions { Certificate = certificate, Key = key }, "/", TimeProvider.System))!.Message;
}
