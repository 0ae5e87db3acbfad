using System.Globalization;
using System.Net;
using LwsPlugins.Tests.Common;

namespace LwsPlugins.Integration.Tests;

/// <summary>
/// Every way the server binary can fail to start, at the default log level: one line on stderr naming the cause
/// (<c>lws-server: ...</c>), the documented exit code, and no stack trace, exception type or hosting noise.
/// </summary>
[TestFixture]
public sealed class StartupFailureTests
{
    private string _folder = null!;

    [SetUp]
    public void CreateFolder()
    {
        _folder = Path.Combine(Path.GetTempPath(), "lws-startfail-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
    }

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    private static IEnumerable<TestCaseData> ConfigFiles()
    {
        yield return Case("not JSON", "{ \"vhosts\" [] }", 2, "server.json, line 1: not valid JSON");
        yield return Case("a vhost key of the wrong type", "{ \"vhosts\": [\n  { \"name\": \"v1\",\n    \"port\": \"abc\" } ] }", 2, "vhost 'v1': port: must be a whole number from 0 to 65535, was \"abc\" (");
        yield return Case("a mount without mountPoint", """{ "vhosts": [ { "name": "v1", "port": 0, "mounts": [ { "origin": "/tmp" } ] } ] }""", 2, "vhost 'v1': mounts[0].mountPoint: is required");
        yield return Case(
            "a protocol option of the wrong type",
            "{ \"vhosts\": [\n  { \"name\": \"v1\", \"port\": 0,\n    \"protocols\": {\n      \"lws-mirror-protocol\": {\n        \"maxInstances\": \"lots\" } } } ] }",
            2,
            "vhost 'v1': protocols.lws-mirror-protocol.maxInstances: must be a whole number from -2147483648 to 2147483647, was \"lots\" (");
        yield return Case(
            "an unknown protocol option",
            "{ \"vhosts\": [\n  { \"name\": \"v1\", \"port\": 0,\n    \"protocols\": { \"lws-mirror-protocol\": { \"maxInstancez\": 3 } } } ] }",
            2,
            "vhost 'v1': protocols.lws-mirror-protocol.maxInstancez: is not an option of this protocol (its options: maxInstances, keepMembersOnReload, maxNameLength) (");
        yield return Case("an admin token too short", """{ "admin": { "enabled": true, "port": 0, "token": "short" }, "vhosts": [] }""", 2, "admin.token");

        static TestCaseData Case(string name, string json, int exitCode, string expected)
            => new TestCaseData(json, exitCode, expected).SetName("ConfigFile_" + name.Replace(' ', '_'));
    }

    [TestCaseSource(nameof(ConfigFiles))]
    public async Task ABadConfigurationFile_FailsWithOneLine(string json, int exitCode, string expected)
    {
        var config = Path.Combine(_folder, "server.json");
        await File.WriteAllTextAsync(config, json);

        var (code, output) = await ServerProcess.RunToExitAsync("--config", config);

        AssertOneLineFailure(code, output, exitCode, expected);
    }

    [Test]
    public async Task AProtocolOptionOfTheWrongType_NamesItsFileAndLine()
    {
        var config = Path.Combine(_folder, "server.json");
        await File.WriteAllTextAsync(config, "{ \"vhosts\": [\n  { \"name\": \"v1\", \"port\": 0,\n    \"protocols\": {\n      \"lws-mirror-protocol\": {\n        \"maxInstances\": \"lots\" } } } ] }");

        var (code, output) = await ServerProcess.RunToExitAsync("--config", config);

        AssertOneLineFailure(code, output, 2, $"({config}, line 5)");
    }

    [Test]
    public async Task AMissingConfigurationFile_FailsWithOneLine()
    {
        var missing = Path.Combine(_folder, "no-such.json");

        var (code, output) = await ServerProcess.RunToExitAsync("--config", missing);

        AssertOneLineFailure(code, output, 2, missing);
    }

    [TestCase(new[] { "--frobnicate" }, "Unrecognized command or argument '--frobnicate' (see --help).")]
    [TestCase(new[] { "-p", "abc" }, "--port: must be a whole number, was 'abc' (see --help).")]
    [TestCase(new[] { "--log-format", "xml" }, "--log-format")]
    public async Task ABadCommandLine_FailsWithOneLineAndExitCode2(string[] arguments, string expected)
    {
        var (code, output) = await ServerProcess.RunToExitAsync(arguments);

        AssertOneLineFailure(code, output, 2, expected);
        Assert.That(output, Does.Not.Contain("Usage:"), "the help text is for --help");
    }

    [Test]
    public async Task AMissingTlsCertificate_FailsWithOneLine()
    {
        var certificate = Path.Combine(_folder, "no-such.pem");

        var (code, output) = await ServerProcess.RunToExitAsync("-p", "0", "-s", "-C", certificate, "-K", Path.Combine(_folder, "no-such.key"));

        AssertOneLineFailure(code, output, 2, certificate);
    }

    [Test]
    public async Task AnAdminPortInUse_FailsWithOneLine()
    {
        using var taken = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture);
        var config = Path.Combine(_folder, "server.json");
        await File.WriteAllTextAsync(config, $$"""{ "admin": { "enabled": true, "port": {{port}}, "token": "admin-token-0123456789" }, "vhosts": [ { "name": "v1", "port": 0 } ] }""");

        var (code, output) = await ServerProcess.RunToExitAsync("--config", config);

        AssertOneLineFailure(code, output, 2, $"admin: cannot listen on 127.0.0.1:{port}");
    }

    private static void AssertOneLineFailure(int code, string output, int exitCode, string expected)
    {
        Assert.That(code, Is.EqualTo(exitCode), output);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var failures = lines.Where(l => l.StartsWith("lws-server: ", StringComparison.Ordinal)).ToList();
        Assert.That(failures, Has.Count.EqualTo(1), output);
        Assert.That(failures[0], Does.Contain(expected), output);
        Assert.That(output, Does.Not.Contain("   at ").And.Not.Contain("Exception").And.Not.Contain("Hosting failed to start"), output);
    }
}
