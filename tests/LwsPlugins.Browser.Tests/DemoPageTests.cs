using System.Text.RegularExpressions;
using LwsPlugins.Tests.Common;
using static Microsoft.Playwright.Assertions;

namespace LwsPlugins.Browser.Tests;

/// <summary>The demo page's counter, status and connection-state panels, and the page's health, in a real browser.</summary>
[TestFixture]
public sealed class DemoPageTests : BrowserFixture
{
    [Test]
    public async Task Counter_Increases_AndResetButtonBringsItBackNearZero()
    {
        var page = await OpenDemoPageAsync("counter");
        await Expect(page.ResetButton).ToBeEnabledAsync();

        var first = await page.WaitForCounterAtLeastAsync(1);
        var before = await page.WaitForCounterAtLeastAsync(first + 40);   // 2 s at 50 ms
        await page.ResetButton.ClickAsync();
        var after = await page.WaitForCounterAtMostAsync(10);

        Assert.That(after, Is.LessThan(before / 4), $"the counter showed {before} before the reset");
    }

    [Test]
    public async Task StatusPanel_ListsEveryConnectedPageWithItsUserAgent()
    {
        const string firstAgent = "LwsPlugins-browser-test/first (a)";
        const string secondAgent = "LwsPlugins-browser-test/second (b)";
        var first = await OpenDemoPageAsync("first", userAgent: firstAgent);
        await first.WaitUntilEveryPanelIsOpenAsync();
        var second = await OpenDemoPageAsync("second", userAgent: secondAgent);
        await second.WaitUntilEveryPanelIsOpenAsync();

        foreach (var page in new[] { first, second })
        {
            await Expect(page.StatusRows).ToHaveCountAsync(2);
            await Expect(page.StatusRows.Locator(".ua").Filter(new() { HasTextString = firstAgent })).ToHaveCountAsync(1);
            await Expect(page.StatusRows.Locator(".ua").Filter(new() { HasTextString = secondAgent })).ToHaveCountAsync(1);
        }
    }

    [Test]
    public async Task DestroyingTheVhost_ShowsEveryPanelClosedWith1001()
    {
        var page = await OpenDemoPageAsync("destroyed");
        await page.WaitUntilEveryPanelIsOpenAsync();

        Assert.That(await Server.Context.DestroyVhostAsync(VhostName, CancellationToken.None), Is.True);

        foreach (var badge in page.StateBadges)
        {
            await Expect(badge).ToHaveAttributeAsync("data-state", "closed");
            await Expect(badge).ToContainTextAsync("1001");
        }
    }

    [Test]
    public async Task Page_HasNoConsoleErrors_AndNoHorizontalOverflowAt320Pixels()
    {
        var page = await OpenDemoPageAsync("narrow", width: 320);
        await page.WaitUntilEveryPanelIsOpenAsync();
        await page.WaitForCounterAtLeastAsync(1);
        await Expect(page.StatusRows).ToHaveCountAsync(1);
        await Expect(page.PluginRows).ToHaveCountAsync(BundledPlugins.Count);
        await page.DrawStrokeAsync((0.2, 0.2), (0.8, 0.7));
        await page.WaitForMirrorReceivedAtLeastAsync(2);

        var scrollWidth = await page.Page.EvaluateAsync<int>("() => document.documentElement.scrollWidth");
        Assert.Multiple(() =>
        {
            Assert.That(scrollWidth, Is.LessThanOrEqualTo(320 + 1), "horizontal overflow at 320 px");
            Assert.That(ConsoleErrors, Is.Empty);
        });
    }

    [Test]
    public async Task PluginHotReload_WhileThePageIsOpen_KeepsEveryPanelWorking()
    {
        var page = await OpenDemoPageAsync("reload", query: "?mirror=reload");
        await page.WaitUntilEveryPanelIsOpenAsync();
        await page.DrawStrokeAsync((0.1, 0.1), (0.4, 0.4));
        var drawn = await page.WaitForMirrorReceivedAtLeastAsync(2);

        // Deploy a new build of the mirror and dumb-increment plugins into the watched folder.
        foreach (var plugin in new[] { "mirror", "dumb-increment" })
        {
            var manifest = Path.Combine(Plugins.Path, plugin, plugin + ".json");
            await File.WriteAllTextAsync(manifest, (await File.ReadAllTextAsync(manifest)).Replace("\"1.0.0\"", "\"1.0.1\"", StringComparison.Ordinal));
        }

        await Eventually.WaitUntilAsync(
            () => Server.Context.Status.GetSnapshot().Vhosts.Single().Protocols.Where(p => p.PluginId != "server-status").All(p => p.Generation == 2),
            TimeSpan.FromSeconds(20));

        var counter = await page.WaitForCounterAtLeastAsync(1);
        await page.WaitForCounterAtLeastAsync(counter + 10);
        await page.DrawStrokeAsync((0.5, 0.5), (0.9, 0.8));
        await page.WaitForMirrorReceivedAtLeastAsync(drawn + 2);
        foreach (var badge in page.StateBadges)
        {
            await Expect(badge).ToHaveAttributeAsync("data-state", "open");
        }

        // The status panel shows both generations of each: the new one active, the old one on its way out.
        foreach (var plugin in new[] { "mirror", "dumb-increment" })
        {
            await Expect(page.Generations(plugin)).ToHaveCountAsync(2);
            await Expect(page.Generations(plugin).Last).ToHaveAttributeAsync("data-state", "active");
            await Expect(page.Generations(plugin).Last).ToContainTextAsync("v1.0.1");
            await Expect(page.Generations(plugin).First).ToHaveAttributeAsync("data-state", new Regex("^(draining|unloading|unloaded)$"));
        }

        Assert.That(ConsoleErrors, Is.Empty);
    }
}
