using LwsPlugins.Host.Plugins;
using Microsoft.Extensions.Logging.Abstractions;

namespace LwsPlugins.Host.Tests.Plugins;

[TestFixture]
public sealed class PluginAssemblyChecksTests
{
    private string _folder = null!;

    [SetUp]
    public void CreateFolder()
    {
        _folder = Path.Combine(Path.GetTempPath(), "lws-checks-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
    }

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    [Test]
    public void SharedFileNames_AreTheSdkAndTheAbstractionsItExposes()
        => Assert.That(PluginAssemblyChecks.SharedFileNames, Is.EquivalentTo(new[]
        {
            "LwsPlugins.Sdk.dll",
            "System.Composition.AttributedModel.dll",
            "Microsoft.Extensions.Logging.Abstractions.dll",
            "Microsoft.Extensions.Options.dll",
            "Microsoft.Extensions.DependencyInjection.Abstractions.dll",
            "Microsoft.Extensions.Primitives.dll",
            "Microsoft.Extensions.FileProviders.Abstractions.dll",
        }));

    [TestCaseSource(typeof(PluginAssemblyChecks), nameof(PluginAssemblyChecks.SharedFileNames))]
    public void FolderWithACopyOfASharedAssembly_IsRefusedNamingTheFileAndTheFix(string fileName)
    {
        var copy = Path.Combine(_folder, fileName);
        File.WriteAllBytes(copy, [0]);

        var ex = Assert.Throws<PluginLoadException>(() => PluginAssemblyChecks.CheckNoSharedCopies(_folder));

        Assert.That(ex!.Message, Does.StartWith(copy + ": "));
        Assert.That(ex.Message, Does.Contain($"carries its own copy of {fileName}"));
        Assert.That(ex.Message, Does.Contain("reference the LwsPlugins.Sdk NuGet package"));
        Assert.That(ex.Message, Does.Contain("or delete the file"));
    }

    [Test]
    public void CopyInASubfolder_IsRefusedToo()
    {
        Directory.CreateDirectory(Path.Combine(_folder, "runtimes"));
        var copy = Path.Combine(_folder, "runtimes", "LwsPlugins.Sdk.dll");
        File.WriteAllBytes(copy, [0]);

        var ex = Assert.Throws<PluginLoadException>(() => PluginAssemblyChecks.CheckNoSharedCopies(_folder));

        Assert.That(ex!.Message, Does.StartWith(copy + ": "));
    }

    [Test]
    public void FolderWithPrivateDependenciesOnly_IsAccepted()
    {
        File.WriteAllBytes(Path.Combine(_folder, "Plugin.dll"), [0]);
        File.WriteAllBytes(Path.Combine(_folder, "Newtonsoft.Json.dll"), [0]);

        Assert.That(() => PluginAssemblyChecks.CheckNoSharedCopies(_folder), Throws.Nothing);
    }

    [Test]
    public void PluginBuiltAgainstANewerSdkMajor_IsRefusedNamingTheFileAndTheFix()
    {
        var assembly = Path.Combine(_folder, "Plugin.dll");
        TestAssemblyWriter.Write(assembly, new Version(2, 0, 0, 0));

        var ex = Assert.Throws<PluginLoadException>(() => PluginAssemblyChecks.CheckSdkReference(assembly));

        Assert.That(ex!.Message, Does.StartWith(assembly + ": "));
        Assert.That(ex.Message, Does.Contain($"built against LwsPlugins.Sdk 2.x (assembly version 2.0.0.0), a newer major than this host's SDK {PluginManifestReader.HostSdkVersion}"));
        Assert.That(ex.Message, Does.Contain("Fix: rebuild the plugin against LwsPlugins.Sdk 1.x"));
        Assert.That(ex.Message, Does.Contain("\"sdk\": \"[1.0.0, 2.0.0)\""));
    }

    [Test]
    public void PluginReferencingANewerSdkAssemblyVersionOfTheSameMajor_IsRefused()
    {
        var assembly = Path.Combine(_folder, "Plugin.dll");
        TestAssemblyWriter.Write(assembly, new Version(1, 1, 0, 0));

        var ex = Assert.Throws<PluginLoadException>(() => PluginAssemblyChecks.CheckSdkReference(assembly));

        Assert.That(ex!.Message, Does.StartWith(assembly + ": "));
        Assert.That(ex.Message, Does.Contain("assembly version 1.1.0.0, newer than this host's 1.0.0.0"));
        Assert.That(ex.Message, Does.Contain("Fix: rebuild the plugin against the LwsPlugins.Sdk package"));
    }

    [TestCase(1, 0)]
    [TestCase(0, 9)]
    public void PluginBuiltAgainstTheHostsMajorOrOlder_IsAccepted(int major, int minor)
    {
        var assembly = Path.Combine(_folder, "Plugin.dll");
        TestAssemblyWriter.Write(assembly, new Version(major, minor, 0, 0));

        Assert.That(() => PluginAssemblyChecks.CheckSdkReference(assembly), Throws.Nothing);
        Assert.That(PluginAssemblyChecks.ReadSdkReference(assembly), Is.EqualTo(new Version(major, minor, 0, 0)));
    }

    [Test]
    public void AssemblyWithoutAnSdkReference_IsLeftToTheExportCheck()
    {
        var assembly = Path.Combine(_folder, "Plugin.dll");
        TestAssemblyWriter.Write(assembly, null);

        Assert.That(PluginAssemblyChecks.ReadSdkReference(assembly), Is.Null);
        Assert.That(() => PluginAssemblyChecks.CheckSdkReference(assembly), Throws.Nothing);
    }

    [Test]
    public void FileThatIsNotAnAssembly_IsLeftToTheLoader()
    {
        var assembly = Path.Combine(_folder, "Plugin.dll");
        File.WriteAllText(assembly, "not a PE file");

        Assert.That(PluginAssemblyChecks.ReadSdkReference(assembly), Is.Null);
        Assert.That(() => PluginAssemblyChecks.CheckSdkReference(assembly), Throws.Nothing);
    }

    [Test]
    public async Task Catalog_MarksAPluginBuiltAgainstANewerSdkMajorFailed_WithTheMessage()
    {
        var pluginFolder = Path.Combine(_folder, "future");
        Directory.CreateDirectory(pluginFolder);
        TestAssemblyWriter.Write(Path.Combine(pluginFolder, "Future.dll"), new Version(2, 0, 0, 0));
        await File.WriteAllTextAsync(
            Path.Combine(pluginFolder, "future.json"),
            """{ "id": "future", "assembly": "Future.dll", "version": "1.0.0", "sdk": "[1.0.0, 3.0.0)", "protocols": [ { "name": "future-protocol" } ] }""");
        await using var catalog = new PluginCatalog(_folder, TimeProvider.System, NullLoggerFactory.Instance);

        var change = catalog.Load(pluginFolder);

        Assert.That(change!.Next!.State, Is.EqualTo(PluginGenerationState.Failed));
        Assert.That(change.Next.Error, Does.StartWith(Path.Combine(pluginFolder, "Future.dll") + ": built against LwsPlugins.Sdk 2.x"));
    }

    [Test]
    public async Task Catalog_MarksAFolderWithAPrivateSdkCopyFailed_WithTheMessage()
    {
        var pluginFolder = Path.Combine(_folder, "copycat");
        Directory.CreateDirectory(pluginFolder);
        TestAssemblyWriter.Write(Path.Combine(pluginFolder, "Copycat.dll"), new Version(1, 0, 0, 0));
        File.Copy(typeof(LwsPlugins.Sdk.IProtocolPlugin).Assembly.Location, Path.Combine(pluginFolder, "LwsPlugins.Sdk.dll"));
        await File.WriteAllTextAsync(
            Path.Combine(pluginFolder, "copycat.json"),
            """{ "id": "copycat", "assembly": "Copycat.dll", "version": "1.0.0", "sdk": "[1.0.0, 2.0.0)", "protocols": [ { "name": "copycat-protocol" } ] }""");
        await using var catalog = new PluginCatalog(_folder, TimeProvider.System, NullLoggerFactory.Instance);

        var change = catalog.Load(pluginFolder);

        Assert.That(change!.Next!.State, Is.EqualTo(PluginGenerationState.Failed));
        Assert.That(change.Next.Error, Does.StartWith(Path.Combine(pluginFolder, "LwsPlugins.Sdk.dll") + ": the plugin carries its own copy"));
    }
}
