namespace LwsPlugins.Browser.Tests;

/// <summary>Drawing on the mirror canvas with the mouse, seen by the other pages of the same <c>?mirror=</c> instance.</summary>
[TestFixture]
public sealed class MirrorCanvasTests : BrowserFixture
{
    /// <summary>The README's picture of the demo page, rewritten by every run of this test.</summary>
    public const string DemoPageScreenshot = "demo-page.png";

    [Test]
    public async Task Strokes_AppearInPagesOfTheSameMirrorInstance_AndNotInAnother()
    {
        var drawer = await OpenDemoPageAsync("A", "?mirror=x");
        var sameInstance = await OpenDemoPageAsync("B", "?mirror=x");
        var otherInstance = await OpenDemoPageAsync("C", "?mirror=y");
        foreach (var page in new[] { drawer, sameInstance, otherInstance })
        {
            await page.WaitUntilEveryPanelIsOpenAsync();
        }

        Assert.That(await sameInstance.InkedPixelsAsync(), Is.Zero, "B's canvas before any stroke");
        await drawer.DrawStrokeAsync((0.08, 0.75), (0.2, 0.25), (0.32, 0.75), (0.44, 0.25), (0.56, 0.75));
        await drawer.MirrorColor.FillAsync("#cf222e");
        await drawer.DrawStrokeAsync((0.62, 0.5), (0.75, 0.2), (0.9, 0.5), (0.75, 0.8), (0.62, 0.5));

        // Every command A sent comes back to A and reaches B.
        var sent = await drawer.SentMirrorCommandsAsync();
        Assert.That(sent, Is.GreaterThanOrEqualTo(2 * 2), "commands sent by A: a circle and lines per stroke");
        await drawer.WaitForMirrorReceivedAtLeastAsync(sent);
        await sameInstance.WaitForMirrorReceivedAtLeastAsync(sent);

        Assert.Multiple(async () =>
        {
            Assert.That(await sameInstance.MirrorReceivedAsync(), Is.EqualTo(sent), "commands drawn in B");
            Assert.That(await sameInstance.InkedPixelsAsync(), Is.GreaterThan(100), "B's canvas after A's strokes");
            Assert.That(await otherInstance.MirrorReceivedAsync(), Is.Zero, "commands drawn in C (?mirror=y)");
            Assert.That(await otherInstance.InkedPixelsAsync(), Is.Zero, "C's canvas");
        });

        await sameInstance.WaitUntilEveryPanelIsOpenAsync();
        await sameInstance.WaitForCounterAtLeastAsync(1);
        await SaveScreenshotAsync(sameInstance, DemoPageScreenshot);
    }
}
