using System.Diagnostics.Metrics;
using LwsPlugins.Host.Diagnostics;

namespace LwsPlugins.Host.Tests.Diagnostics;

[TestFixture]
public sealed class AccessLogTests
{
    private static readonly DateTimeOffset Noon = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private string _folder = null!;
    private string _path = null!;

    [SetUp]
    public void CreateFolder()
    {
        _folder = Directory.CreateTempSubdirectory("lws-accesslog-").FullName;
        _path = Path.Combine(_folder, "access.log");
    }

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    [Test]
    public async Task FullQueue_DropsTheLine_AndCountsIt()
    {
        using var meter = new Meter("test-access-log");
        var counter = meter.CreateCounter<long>("dropped");
        long counted = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument == counter)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            Assert.That(tags.ToArray(), Is.EqualTo(new[] { new KeyValuePair<string, object?>("vhost", "v1") }));
            counted += value;
        });
        listener.Start();
        var gate = new TaskCompletionSource();

        var log = new AccessLog(_path, default, counter, "v1", capacity: 2, gate.Task);
        for (var i = 0; i < 5; i++)
        {
            log.Request("127.0.0.1", Noon, "GET", "/" + i, "HTTP/1.1", 200, 0, null, null);
        }

        Assert.That(log.Dropped, Is.EqualTo(3));
        Assert.That(counted, Is.EqualTo(3));
        gate.SetResult();
        await log.DisposeAsync();
        Assert.That(File.ReadAllLines(_path).Select(l => l.Split('"')[1]), Is.EqualTo(new[] { "GET /0 HTTP/1.1", "GET /1 HTTP/1.1" }));
    }

    [Test]
    public async Task SizeRotation_StartsANewFileBeforeTheLimit_AndKeepsOnlyTheNewestFiles()
    {
        var log = new AccessLog(_path, new AccessLogRotation(Daily: false, MaxBytes: 200, KeepFiles: 2), null, "v1");
        for (var i = 0; i < 12; i++)
        {
            log.Request("127.0.0.1", Noon, "GET", $"/{i:D2}", "HTTP/1.1", 200, 10, null, null);
        }

        await log.DisposeAsync();

        // Each line is 79 bytes: two fit under 200, so 12 lines make 6 files, of which the live one and two old remain.
        Assert.That(Directory.GetFiles(_folder).Select(Path.GetFileName).Order(), Is.EqualTo(new[] { "access.log", "access.log.1", "access.log.2" }));
        Assert.That(new[] { _path, _path + ".1", _path + ".2" }.Select(p => new FileInfo(p).Length), Has.All.LessThanOrEqualTo(200));
        Assert.That(Targets(_path), Is.EqualTo(new[] { "/10", "/11" }));
        Assert.That(Targets(_path + ".1"), Is.EqualTo(new[] { "/08", "/09" }));
        Assert.That(Targets(_path + ".2"), Is.EqualTo(new[] { "/06", "/07" }));
    }

    [Test]
    public async Task DailyRotation_StartsANewFileAtTheFirstLineOfANewUtcDay()
    {
        var log = new AccessLog(_path, new AccessLogRotation(Daily: true, MaxBytes: 0, KeepFiles: 7), null, "v1");
        log.Request("127.0.0.1", Noon, "GET", "/a", "HTTP/1.1", 200, 1, null, null);
        log.Request("127.0.0.1", Noon.AddHours(11).AddMinutes(59), "GET", "/b", "HTTP/1.1", 200, 1, null, null);
        log.Request("127.0.0.1", Noon.AddHours(12), "GET", "/c", "HTTP/1.1", 200, 1, null, null);
        log.Request("127.0.0.1", Noon.AddDays(2), "GET", "/d", "HTTP/1.1", 200, 1, null, null);
        await log.DisposeAsync();

        Assert.That(Targets(_path + ".2"), Is.EqualTo(new[] { "/a", "/b" }));
        Assert.That(Targets(_path + ".1"), Is.EqualTo(new[] { "/c" }));
        Assert.That(Targets(_path), Is.EqualTo(new[] { "/d" }));
    }

    [Test]
    public async Task WebSocketLine_HasDurationAndBytes_AndZeroIsWrittenAsZero()
    {
        var log = new AccessLog(_path, default, null, "v1");
        log.WebSocket("::1", Noon, Noon.AddMilliseconds(1500), "/ws?a=%20", "HTTP/1.1", "ua \"x\"", "lws-mirror-protocol", 0, 0);
        await log.DisposeAsync();

        Assert.That(File.ReadAllText(_path), Is.EqualTo(
            "::1 - - [01/Dec/2026:12:00:00 +0000] \"GET /ws?a=%20 HTTP/1.1\" 101 0 \"-\" \"ua \\\"x\\\"\" ws=\"lws-mirror-protocol\" duration_ms=1500 bytes_in=0 bytes_out=0\n"));
    }

    private static string[] Targets(string path) => [.. File.ReadAllLines(path).Select(l => l.Split('"')[1].Split(' ')[1])];
}
