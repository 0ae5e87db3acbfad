using LwsPlugins.Host.Configuration;
using LwsPlugins.Tests.Common;
using Microsoft.Playwright;
using NUnit.Framework.Interfaces;

namespace LwsPlugins.Browser.Tests;

/// <summary>
/// One headless Debian chromium per fixture, driven by Playwright, against a fresh in-process server per test whose vhost
/// serves the demo page and its four protocols. A failed test leaves a full-page screenshot of every page it opened and
/// the browser console log under <c>artifacts/browser/</c> in the test work directory, attached to the result.
/// </summary>
public abstract class BrowserFixture
{
    protected const string VhostName = "localhost";

    /// <summary>Every wait (Playwright actions, expectations, WaitForFunction) gives up after this long.</summary>
    protected const float TimeoutMs = 10_000;

    // Playwright cannot download browsers here: it drives the system chromium, as `command -v chromium` finds it.
    private static readonly string[] ChromiumArgs =
        ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"];

    private readonly List<IBrowserContext> _contexts = [];
    private readonly List<DemoPage> _pages = [];
    private readonly List<string> _consoleLog = [];
    private readonly List<string> _consoleErrors = [];
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    /// <summary>The ids of the bundled plugins, each in <c>plugins/&lt;id&gt;/</c> of the build output.</summary>
    protected static IReadOnlyList<string> BundledPlugins { get; } = ["dumb-increment", "mirror", "server-status"];

    protected LoopbackServer Server { get; private set; } = null!;

    /// <summary>The plugins folder the server watches (a copy of the built plugins).</summary>
    protected PluginFolder Plugins { get; private set; } = null!;

    /// <summary>The console messages of type error and the uncaught page errors seen so far in this test.</summary>
    protected IReadOnlyList<string> ConsoleErrors
    {
        get
        {
            lock (_consoleLog)
            {
                return [.. _consoleErrors];
            }
        }
    }

    protected static string ArtifactsPath => Path.Combine(TestContext.CurrentContext.WorkDirectory, "artifacts", "browser");

    [OneTimeSetUp]
    public async Task LaunchBrowser()
    {
        var chromium = CommandPath.Find("chromium");
        Assert.That(chromium, Is.Not.Null, "chromium is not on PATH: the test command installs the Debian package chromium.");
        Assertions.SetDefaultExpectTimeout(TimeoutMs);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = ChromiumArgs,
            Timeout = 60_000,
        });
    }

    [OneTimeTearDown]
    public async Task CloseBrowser()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }

    [SetUp]
    public async Task StartServer()
    {
        var www = Path.Combine(AppContext.BaseDirectory, "www");
        Assert.That(Path.Combine(www, "index.html"), Does.Exist, "the demo page is copied to the output by the server project reference");
        var vhost = LoopbackServer.Vhost(VhostName, "dumb-increment-protocol", "lws-mirror-protocol", "lws-status", "lws-server-status");
        vhost.Mounts.Add(new MountOptions { MountPoint = "/", Origin = www });

        // A private copy of the built plugins, so a test may deploy a new build of one (or a new plugin) while its pages
        // are open; a test marked [WithoutPlugin] starts without that one.
        Plugins = new PluginFolder();
        var withheld = TestContext.CurrentContext.Test.Properties[WithoutPluginAttribute.PropertyName].OfType<string>().ToList();
        foreach (var plugin in BundledPlugins.Except(withheld, StringComparer.Ordinal))
        {
            Plugins.CopyFrom(LoopbackServer.BundledPluginsPath, plugin);
        }

        Server = await LoopbackServer.StartAsync(Plugins.Path, vhost);
    }

    [TearDown]
    public async Task CloseEverything()
    {
        try
        {
            if (TestContext.CurrentContext.Result.Outcome.Status == TestStatus.Failed)
            {
                await SaveFailureArtifactsAsync();
            }
        }
        finally
        {
            foreach (var context in _contexts)
            {
                await context.DisposeAsync();
            }

            _contexts.Clear();
            _pages.Clear();
            lock (_consoleLog)
            {
                _consoleLog.Clear();
                _consoleErrors.Clear();
            }

            if (Server is not null)
            {
                await Server.DisposeAsync();
                Server = null!;
            }

            Plugins?.Dispose();
        }
    }

    /// <summary>
    /// Opens the demo page in a new browser context (its own cookies and user agent), logging its console messages, page
    /// errors, failed requests and WebSocket events. <paramref name="beforeNavigation"/> may route the context's
    /// WebSockets first.
    /// </summary>
    protected async Task<DemoPage> OpenDemoPageAsync(
        string label, string query = "", string? userAgent = null, int width = 1000, Func<IBrowserContext, Task>? beforeNavigation = null)
    {
        var context = await _browser.NewContextAsync(new()
        {
            UserAgent = userAgent,
            ViewportSize = new() { Width = width, Height = 800 },
        });
        _contexts.Add(context);
        context.SetDefaultTimeout(TimeoutMs);
        await context.AddInitScriptAsync(DemoPage.CountSentMirrorCommandsScript);
        if (beforeNavigation is not null)
        {
            await beforeNavigation(context);
        }

        var page = await context.NewPageAsync();
        page.Console += (_, message) => Log(label, message.Type, $"{message.Text} ({message.Location})");
        page.PageError += (_, error) => Log(label, "pageerror", error);
        page.RequestFailed += (_, request) => Log(label, "requestfailed", $"{request.Url}: {request.Failure}");
        page.WebSocket += (_, socket) =>
        {
            Log(label, "websocket", $"created {socket.Url}");
            socket.SocketError += (_, error) => Log(label, "websocket", $"error on {socket.Url}: {error}");
            socket.Close += (_, _) => Log(label, "websocket", $"closed {socket.Url}");
        };
        var demo = new DemoPage(label, page);
        _pages.Add(demo);
        await page.GotoAsync(Server.HttpUri(VhostName, "/" + query).ToString());
        return demo;
    }

    /// <summary>Writes a screenshot of the page to <c>artifacts/browser/</c> and attaches it to the test result.</summary>
    protected static async Task<string> SaveScreenshotAsync(DemoPage page, string fileName, bool fullPage = true)
    {
        Directory.CreateDirectory(ArtifactsPath);
        var path = Path.Combine(ArtifactsPath, fileName);
        await page.Page.ScreenshotAsync(new() { Path = path, FullPage = fullPage, Timeout = TimeoutMs });
        TestContext.AddTestAttachment(path);
        return path;
    }

    private void Log(string label, string type, string text)
    {
        var line = $"{DateTimeOffset.UtcNow:HH:mm:ss.fff} [{label}] {type}: {text}";
        lock (_consoleLog)
        {
            _consoleLog.Add(line);
            if (type is "error" or "pageerror")
            {
                _consoleErrors.Add(line);
            }
        }
    }

    private async Task SaveFailureArtifactsAsync()
    {
        var name = string.Concat(TestContext.CurrentContext.Test.Name.Select(c => Path.GetInvalidFileNameChars().Contains(c) || c is '(' or ')' or '"' ? '_' : c));
        Directory.CreateDirectory(ArtifactsPath);
        var logPath = Path.Combine(ArtifactsPath, name + ".log");
        string[] log;
        lock (_consoleLog)
        {
            log = [.. _consoleLog];
        }

        await File.WriteAllLinesAsync(logPath, log.Length == 0 ? ["(no console messages)"] : log);
        TestContext.AddTestAttachment(logPath, "browser console log");

        // The first page is <test>.png; any further page is <test>.<label>.png.
        for (var i = 0; i < _pages.Count; i++)
        {
            var fileName = i == 0 ? name + ".png" : $"{name}.{_pages[i].Label}.png";
            try
            {
                await SaveScreenshotAsync(_pages[i], fileName);
            }
            catch (PlaywrightException e)
            {
                await TestContext.Error.WriteLineAsync($"no screenshot of page {_pages[i].Label}: {e.Message}");
            }
        }
    }
}
