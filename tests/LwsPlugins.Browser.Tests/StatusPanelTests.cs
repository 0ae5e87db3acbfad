using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using LwsPlugins.Tests.Common;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace LwsPlugins.Browser.Tests;

/// <summary>
/// The status panel's vhosts and plugins, fed by <c>lws-server-status</c>: what is loaded, and what a change to the
/// server's plugins folder does to the open page (no reload).
/// </summary>
[TestFixture]
public sealed class StatusPanelTests : BrowserFixture
{
    // A plugin load waits for the folder to be quiet (500 ms), then loads; the document follows within updateMs.
    private const float PluginChangeTimeoutMs = 20_000;

    // Set on the page before a change to the plugins folder; a reload would lose it.
    private const string MarkPageScript = "() => { window.__sameDocument = true; }";
    private const string PageNotReloadedScript = "() => window.__sameDocument === true";

    [Test]
    public async Task StatusPanel_ListsTheLoadedPluginsAsActive_AndTheVhostWithItsProtocols()
    {
        var page = await OpenDemoPageAsync("loaded");
        await page.WaitUntilEveryPanelIsOpenAsync();

        await Expect(page.PluginRows).ToHaveCountAsync(BundledPlugins.Count);
        foreach (var plugin in BundledPlugins)
        {
            await Expect(page.Generations(plugin)).ToHaveCountAsync(1);
            await Expect(page.Generations(plugin).First).ToHaveAttributeAsync("data-state", "active");
            await Expect(page.Generations(plugin).First.Locator(".pill")).ToHaveTextAsync("active");
        }

        var vhost = page.Vhost(VhostName);
        await Expect(vhost).ToHaveCountAsync(1);
        await Expect(vhost.Locator(".row .pill")).ToHaveTextAsync("serving");
        await Expect(vhost).ToContainTextAsync("listen " + Server.EndPoint(VhostName));
        await Expect(vhost.Locator("li.protocol")).ToHaveCountAsync(4);
        foreach (var (protocol, plugin) in new[]
        {
            ("dumb-increment-protocol", "dumb-increment"), ("lws-mirror-protocol", "mirror"), ("lws-status", "server-status"), ("lws-server-status", "server-status"),
        })
        {
            var row = vhost.Locator($"li.protocol[data-protocol=\"{protocol}\"]");
            await Expect(row.Locator(".pill")).ToHaveTextAsync("available");
            await Expect(row).ToContainTextAsync($"plugin {plugin} #1");
            await Expect(row).ToContainTextAsync("listed by the vhost");
        }

        Assert.That(ConsoleErrors, Is.Empty);
    }

    [Test]
    public async Task StatusPanel_ShowsWhyTheVhostServesEachProtocol_AndRendersServerStringsAsText()
    {
        // Between server and page, lws-server-status documents get a protocol served as every loaded plugin, one without
        // selectedBy (as an older server sends), and markup in every string of an extra plugin and in an unavailable
        // protocol's reason; every other message passes unchanged.
        const string markup = "<img src=x onerror=window.__injected=true>";
        var page = await OpenDemoPageAsync("rewritten", beforeNavigation: context => context.RouteWebSocketAsync(new Regex(".*"), ws =>
        {
            var server = ws.ConnectToServer();
            server.OnMessage(frame =>
            {
                if (frame.Text is { } text)
                {
                    ws.Send(RewriteServerStatus(text, markup));
                }
                else
                {
                    ws.Send(frame.Binary!);
                }
            });
        }));
        await page.WaitUntilEveryPanelIsOpenAsync();

        var protocols = page.Vhost(VhostName).Locator("li.protocol");
        await Expect(protocols.And(page.Page.Locator("[data-protocol=\"lws-status\"]"))).ToContainTextAsync("listed by the vhost");
        await Expect(protocols.And(page.Page.Locator("[data-protocol=\"lws-mirror-protocol\"]"))).ToContainTextAsync("every loaded plugin");
        await Expect(protocols.And(page.Page.Locator("[data-protocol=\"dumb-increment-protocol\"]"))).Not.ToContainTextAsync("listed");
        await Expect(protocols.And(page.Page.Locator("[data-protocol=\"lws-server-status\"]")).Locator(".error")).ToHaveTextAsync(markup);
        var evil = page.Generations(markup);
        await Expect(evil).ToHaveCountAsync(1);
        await Expect(evil.Locator(".error")).ToHaveTextAsync(markup);
        await Expect(page.PluginRows.Locator(".name").Filter(new() { HasTextString = markup })).ToHaveCountAsync(1);
        Assert.Multiple(async () =>
        {
            Assert.That(await page.Page.Locator("#status img, #status b, #status script").CountAsync(), Is.Zero, "elements made from server text");
            Assert.That(await page.Page.EvaluateAsync<bool>("() => window.__injected === true"), Is.False, "server text ran as script");
            Assert.That(ConsoleErrors, Is.Empty);
        });
    }

    [Test]
    [WithoutPlugin("dumb-increment")]
    public async Task PluginFolderDroppedIntoThePluginsFolder_AppearsOnTheOpenPageAsActive_WithoutReload()
    {
        var page = await OpenDemoPageAsync("dropped");
        await Expect(page.ServerStatusBadge).ToHaveAttributeAsync("data-state", "open");
        await Expect(page.PluginRows).ToHaveCountAsync(BundledPlugins.Count - 1);
        await Expect(page.Generations("dumb-increment")).ToHaveCountAsync(0);
        var protocol = page.Vhost(VhostName).Locator("li.protocol[data-protocol=\"dumb-increment-protocol\"]");
        await Expect(protocol.Locator(".pill")).ToHaveTextAsync("unavailable");
        await Expect(protocol.Locator(".error")).Not.ToBeEmptyAsync();
        await page.Page.EvaluateAsync(MarkPageScript);

        Plugins.CopyFrom(LoopbackServer.BundledPluginsPath, "dumb-increment");

        await Expect(page.PluginRows).ToHaveCountAsync(BundledPlugins.Count, new() { Timeout = PluginChangeTimeoutMs });
        await Expect(page.Generations("dumb-increment").Last).ToHaveAttributeAsync("data-state", "active", new() { Timeout = PluginChangeTimeoutMs });
        await Expect(protocol.Locator(".pill")).ToHaveTextAsync("available", new() { Timeout = PluginChangeTimeoutMs });
        await Expect(protocol).ToContainTextAsync("plugin dumb-increment #");
        await Expect(protocol.Locator(".error")).ToHaveCountAsync(0);
        Assert.That(await page.Page.EvaluateAsync<bool>(PageNotReloadedScript), Is.True, "the page was reloaded");

        // The protocol it brings is served now: the counter panel, refused before the drop, counts after a reconnect.
        await page.Page.Locator("#increment-reconnect").ClickAsync();
        await Expect(page.StateBadges[0]).ToHaveAttributeAsync("data-state", "open");
        await page.WaitForCounterAtLeastAsync(1);
    }

    [Test]
    public async Task FailedGeneration_ShowsItsError_WithoutHorizontalOverflowAt320Pixels()
    {
        const string broken = "broken-manifest";
        var page = await OpenDemoPageAsync("failed", width: 320);
        await page.WaitUntilEveryPanelIsOpenAsync();
        await Expect(page.PluginRows).ToHaveCountAsync(BundledPlugins.Count);
        await page.Page.EvaluateAsync(MarkPageScript);

        Plugins.WriteFile(broken, broken + ".json", "{ \"id\": \"" + broken + "\", \"assembly\": ");

        var generation = page.Generations(broken).Last;
        await Expect(generation).ToHaveAttributeAsync("data-state", "failed", new() { Timeout = PluginChangeTimeoutMs });
        await Expect(generation.Locator(".pill")).ToHaveTextAsync("failed");
        await Expect(generation.Locator(".error")).ToContainTextAsync(broken + ".json");
        await Expect(generation.Locator(".error")).ToContainTextAsync("not valid JSON");
        foreach (var plugin in BundledPlugins)
        {
            await Expect(page.Generations(plugin).Last).ToHaveAttributeAsync("data-state", "active");
        }

        var scrollWidth = await page.Page.EvaluateAsync<int>("() => document.documentElement.scrollWidth");
        Assert.Multiple(async () =>
        {
            Assert.That(await page.Page.EvaluateAsync<bool>(PageNotReloadedScript), Is.True, "the page was reloaded");
            Assert.That(scrollWidth, Is.LessThanOrEqualTo(320 + 1), "horizontal overflow at 320 px with an error shown");
            Assert.That(ConsoleErrors, Is.Empty);
        });
    }

    private static string RewriteServerStatus(string text, string markup)
    {
        if (!text.StartsWith('{') || JsonNode.Parse(text) is not JsonObject { } document || document["vhosts"] is not JsonArray vhosts)
        {
            return text;
        }

        foreach (var protocol in vhosts.OfType<JsonObject>().SelectMany(v => v["protocols"]?.AsArray().OfType<JsonObject>() ?? []))
        {
            switch ((string?)protocol["name"])
            {
                case "lws-mirror-protocol":
                    protocol["selectedBy"] = "all-plugins";
                    break;
                case "dumb-increment-protocol":
                    protocol.Remove("selectedBy");
                    break;
                case "lws-server-status":
                    protocol["unavailableReason"] = markup;
                    break;
            }
        }

        document["plugins"]!.AsArray().Add(new JsonObject
        {
            ["id"] = markup,
            ["path"] = markup,
            ["generations"] = new JsonArray(new JsonObject
            {
                ["number"] = 1,
                ["version"] = markup,
                ["state"] = markup,
                ["error"] = markup,
                ["loadedAt"] = markup,
                ["protocols"] = new JsonArray(markup),
            }),
        });
        return document.ToJsonString();
    }
}
