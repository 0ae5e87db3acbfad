using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace LwsPlugins.Browser.Tests;

/// <summary>The demo page (host/LwsPlugins.Server/www) open in one browser tab: its elements and what a user does with them.</summary>
public sealed class DemoPage(string label, IPage page)
{
    // Resolves with the element's number once the condition holds (a string, so that 0 is truthy for WaitForFunction).
    private const string NumberWhenScript = """
        ([selector, op, bound]) => {
          const text = (document.querySelector(selector)?.textContent ?? "").trim();
          if (!/^\d+$/.test(text)) return false;
          const value = Number(text);
          return (op === ">=" ? value >= bound : value <= bound) ? text : false;
        }
        """;

    /// <summary>Run before the page's own scripts: counts the drawing commands the page sends on its mirror socket.</summary>
    public const string CountSentMirrorCommandsScript = """
        (() => {
          const send = WebSocket.prototype.send;
          window.__sentMirrorCommands = 0;
          WebSocket.prototype.send = function (data) {
            if (this.protocol === "lws-mirror-protocol" && typeof data === "string") {
              window.__sentMirrorCommands += data.split(";").length - 1;
            }
            return send.call(this, data);
          };
        })();
        """;

    // The page batches commands and flushes them from a 1 ms timer: a timer queued after it runs after that flush.
    private const string SentMirrorCommandsScript = "() => new Promise(done => setTimeout(() => done(window.__sentMirrorCommands), 1))";

    // Pixels of the mirror canvas that something was drawn on (the canvas starts fully transparent).
    private const string InkedPixelsScript = """
        () => {
          const canvas = document.getElementById("mirror-canvas");
          const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
          let inked = 0;
          for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) inked++;
          return inked;
        }
        """;

    /// <summary>Names the page in the console log and in failure artifacts.</summary>
    public string Label { get; } = label;

    public IPage Page { get; } = page;

    public ILocator Counter => Page.Locator("#counter");

    public ILocator ResetButton => Page.Locator("#reset-button");

    public ILocator MirrorCanvas => Page.Locator("#mirror-canvas");

    public ILocator MirrorColor => Page.Locator("#mirror-color");

    public ILocator MirrorReceived => Page.Locator("#mirror-received");

    public ILocator StatusRows => Page.Locator("#status-conns li.status-conn");

    /// <summary>The status panel's vhosts (fed by <c>lws-server-status</c>).</summary>
    public ILocator VhostRows => Page.Locator("#server-vhosts li.vhost");

    /// <summary>The status panel's plugins (fed by <c>lws-server-status</c>).</summary>
    public ILocator PluginRows => Page.Locator("#server-plugins li.plugin");

    /// <summary>The state badge of the status panel's <c>lws-server-status</c> socket.</summary>
    public ILocator ServerStatusBadge => Page.Locator("#server-state");

    /// <summary>The state badges of the panels' sockets: increment, mirror, status (lws-status, lws-server-status).</summary>
    public IReadOnlyList<ILocator> StateBadges =>
        [Page.Locator("#increment-state"), Page.Locator("#mirror-state"), Page.Locator("#status-state"), ServerStatusBadge];

    /// <summary>One vhost of the status panel.</summary>
    public ILocator Vhost(string name) => VhostRows.And(Page.Locator($"[data-vhost=\"{name}\"]"));

    /// <summary>The generations the status panel shows for one plugin, oldest first.</summary>
    public ILocator Generations(string pluginId) => PluginRows.And(Page.Locator($"[data-plugin=\"{pluginId}\"]")).Locator("li.generation");

    public async Task WaitUntilEveryPanelIsOpenAsync()
    {
        foreach (var badge in StateBadges)
        {
            await Expect(badge).ToHaveAttributeAsync("data-state", "open");
        }
    }

    /// <summary>Waits until the counter shows at least <paramref name="bound"/> and returns what it showed.</summary>
    public Task<int> WaitForCounterAtLeastAsync(int bound) => WaitForNumberAsync("#counter", ">=", bound);

    public Task<int> WaitForCounterAtMostAsync(int bound) => WaitForNumberAsync("#counter", "<=", bound);

    public Task<int> WaitForMirrorReceivedAtLeastAsync(int bound) => WaitForNumberAsync("#mirror-received", ">=", bound);

    public async Task<int> MirrorReceivedAsync() => int.Parse(await MirrorReceived.InnerTextAsync(), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The drawing commands this page has sent, once its pending batch is flushed.</summary>
    public async Task<int> SentMirrorCommandsAsync() => await Page.EvaluateAsync<int>(SentMirrorCommandsScript);

    public async Task<int> InkedPixelsAsync() => await Page.EvaluateAsync<int>(InkedPixelsScript);

    /// <summary>Drags the mouse across the mirror canvas; points are fractions of its displayed size.</summary>
    public async Task DrawStrokeAsync(params (double X, double Y)[] points)
    {
        var box = await MirrorCanvas.BoundingBoxAsync() ?? throw new InvalidOperationException("the mirror canvas is not displayed");
        (float X, float Y) At((double X, double Y) p) => ((float)(box.X + (p.X * box.Width)), (float)(box.Y + (p.Y * box.Height)));

        var start = At(points[0]);
        await Page.Mouse.MoveAsync(start.X, start.Y);
        await Page.Mouse.DownAsync();
        foreach (var point in points.Skip(1))
        {
            var next = At(point);
            await Page.Mouse.MoveAsync(next.X, next.Y, new() { Steps = 8 });
        }

        await Page.Mouse.UpAsync();
    }

    private async Task<int> WaitForNumberAsync(string selector, string op, int bound)
    {
        var handle = await Page.WaitForFunctionAsync(NumberWhenScript, new object[] { selector, op, bound });
        return int.Parse(await handle.JsonValueAsync<string>(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
