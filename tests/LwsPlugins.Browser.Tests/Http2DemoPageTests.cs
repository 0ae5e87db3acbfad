using LwsPlugins.Tests.Common;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace LwsPlugins.Browser.Tests;

/// <summary>
/// The demo page over https with HTTP/2: chromium loads it over h2 and runs its WebSockets on that connection (RFC 8441),
/// which the page shows as lws-status's <c>wss_over_h2</c> "1". The real server process with <c>-s</c> (a generated
/// certificate, which the browser context is told to accept).
/// </summary>
[TestFixture]
public sealed class Http2DemoPageTests
{
    [Test]
    public async Task DemoPageOverHttps_LoadsOverH2_AndItsWebSocketsRunOverThatConnection()
    {
        var chromium = CommandPath.Find("chromium");
        Assert.That(chromium, Is.Not.Null, "chromium is not on PATH: the test command installs the Debian package chromium.");
        await using var server = await ServerProcess.StartAsync("-p", "0", "-s");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
            Timeout = 60_000,
        });
        await using var context = await browser.NewContextAsync(new() { IgnoreHTTPSErrors = true });
        var page = await context.NewPageAsync();

        await page.GotoAsync($"https://localhost:{server.EndPoint.Port}/", new() { Timeout = 20_000 });

        Assert.That(await page.EvaluateAsync<string>("() => performance.getEntriesByType('navigation')[0].nextHopProtocol"), Is.EqualTo("h2"));
        await Expect(page.Locator("#status-h2")).ToHaveTextAsync("1", new() { Timeout = 20_000 });
        await Expect(page.Locator("#status-conns .status-conn")).ToHaveCountAsync(1, new() { Timeout = 20_000 });
    }
}
