using LwsPlugins.Host.Configuration;

namespace LwsPlugins.Host.Tests.Configuration;

[TestFixture]
public sealed class FileProviderOptionsValidatorTests
{
    [Test]
    public void ZipAndFolderProviders_AreValid()
    {
        var errors = FileProviderOptionsValidator.Validate(
            [new FileProviderOptions { Prefix = "/bundle", Zip = "site.zip" }, new FileProviderOptions { Prefix = "/", Folder = "www" }]);

        Assert.That(errors, Is.Empty);
    }

    [TestCase("", "site.zip", null, "fileProviders[0].prefix")]
    [TestCase("bundle", "site.zip", null, "fileProviders[0].prefix")]
    [TestCase("/bundle/", "site.zip", null, "fileProviders[0].prefix")]
    [TestCase("/a/../b", "site.zip", null, "fileProviders[0].prefix")]
    [TestCase("/bundle", null, null, "fileProviders[0]")]
    [TestCase("/bundle", "site.zip", "www", "fileProviders[0]")]
    public void InvalidProvider_GivesOneErrorNamingTheKey(string prefix, string? zip, string? folder, string key)
    {
        var errors = FileProviderOptionsValidator.Validate([new FileProviderOptions { Prefix = prefix, Zip = zip, Folder = folder }]);

        Assert.That(errors, Has.Count.EqualTo(1));
        Assert.That(errors[0], Does.StartWith(key + ": "));
    }

    [Test]
    public void TwoProvidersWithOnePrefix_AreRefused()
    {
        var errors = FileProviderOptionsValidator.Validate(
            [new FileProviderOptions { Prefix = "/a", Zip = "a.zip" }, new FileProviderOptions { Prefix = "/a", Folder = "a" }]);

        Assert.That(errors.Single(), Does.StartWith("fileProviders[1].prefix: "));
    }

    [Test]
    public void ConfigurationFile_ReadsFileProviders_AndReportsTheirErrorsWithTheSource()
    {
        var options = LwsServerConfigFile.Parse("""{ "fileProviders": [ { "prefix": "/bundle", "zip": "site.zip" } ], "vhosts": [] }""", "server.json");
        var error = Assert.Throws<LwsConfigurationException>(
            () => LwsServerConfigFile.Parse("""{ "fileProviders": [ { "prefix": "bundle", "zip": "site.zip" } ], "vhosts": [] }""", "server.json"));

        Assert.That(options.FileProviders.Single().Zip, Is.EqualTo("site.zip"));
        Assert.That(error!.Message, Does.StartWith("server.json: fileProviders[0].prefix: "));
    }
}
