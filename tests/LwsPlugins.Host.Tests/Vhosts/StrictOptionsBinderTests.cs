using System.Text.Json;
using LwsPlugins.Host.Vhosts;
using LwsPlugins.Sdk;
using LwsPlugins.Sdk.Status;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Moq;

namespace LwsPlugins.Host.Tests.Vhosts;

/// <summary>
/// Protocol options bound strictly from the manifest's defaults and the vhost's layer (through
/// <see cref="ProtocolContext.BindOptions"/>): what binds, and what is refused with which message.
/// </summary>
[TestFixture]
public sealed class StrictOptionsBinderTests
{
    private const string Defaults = """{ "count": 1, "names": [ "a", "b", "c" ], "inner": { "limit": 1, "label": "manifest" }, "weights": { "x": 1, "y": 2 } }""";

    [Test]
    public void AVhostList_ReplacesTheDefaultList_SoItCanBeShorter()
    {
        var options = Bind(Defaults, """{ "names": [ "z" ] }""");

        Assert.That(options.Names, Is.EqualTo(new[] { "z" }));
    }

    [Test]
    public void NumbersAndTrueOrFalse_MayComeAsExactlyTheirText_AsLwswsPerVhostOptionsDo()
    {
        var options = Bind(Defaults, """{ "count": "50", "inner": { "limit": "-3" }, "enabled": "true" }""");

        Assert.That(options.Count, Is.EqualTo(50));
        Assert.That(options.Inner.Limit, Is.EqualTo(-3));
        Assert.That(options.Enabled, Is.True);
    }

    [Test]
    public void AnEmptyVhostList_EmptiesTheDefaultList()
    {
        Assert.That(Bind(Defaults, """{ "names": [] }""").Names, Is.Empty);
    }

    [Test]
    public void AVhostObject_MergesIntoTheDefaultObjectKeyByKey()
    {
        var options = Bind(Defaults, """{ "inner": { "limit": 9 }, "weights": { "y": 5, "z": 7 } }""");

        Assert.That(options.Inner.Limit, Is.EqualTo(9));
        Assert.That(options.Inner.Label, Is.EqualTo("manifest"), "a nested key only the manifest sets keeps the manifest's value");
        Assert.That(options.Weights, Is.EqualTo(new Dictionary<string, int> { ["x"] = 1, ["y"] = 5, ["z"] = 7 }));
    }

    [Test]
    public void Null_SetsANullableOption_AndOverridesItsDefault()
    {
        var options = Bind("""{ "maybe": 4, "nickname": "n" }""", """{ "maybe": null, "nickname": null }""");

        Assert.That(options.Maybe, Is.Null);
        Assert.That(options.Nickname, Is.Null);
    }

    [Test]
    public void ValuesOfTheRightKind_Bind()
    {
        var options = Bind(null, """{ "enabled": true, "Mode": "FAST", "ratio": 0.25, "port": 65535, "delay": "00:00:05", "codes": [ 1, 2 ], "maybe": 3, "letter": "q", "big": 9007199254740993, "children": [ { "limit": 4 } ] }""");

        Assert.Multiple(() =>
        {
            Assert.That(options.Enabled, Is.True);
            Assert.That(options.Mode, Is.EqualTo(SampleMode.Fast));
            Assert.That(options.Ratio, Is.EqualTo(0.25));
            Assert.That(options.Port, Is.EqualTo(65535));
            Assert.That(options.Delay, Is.EqualTo(TimeSpan.FromSeconds(5)));
            Assert.That(options.Codes, Is.EqualTo(new[] { 1, 2 }));
            Assert.That(options.Maybe, Is.EqualTo(3));
            Assert.That(options.Letter, Is.EqualTo('q'));
            Assert.That(options.Big, Is.EqualTo(9007199254740993L));
            Assert.That(options.Children.Single().Limit, Is.EqualTo(4));
            Assert.That(options.Children.Single().Label, Is.EqualTo("class default"));
        });
    }

    [Test]
    public void AGetOnlyList_IsRefilledWithTheGivenList()
    {
        var options = Bind("""{ "fixedList": [ "a", "b" ] }""", """{ "fixedList": [ "c" ] }""");

        Assert.That(options.FixedList, Is.EqualTo(new[] { "c" }));
    }

    [Test]
    public void NoLayers_LeaveTheClassDefaults()
    {
        var options = Bind(null, null);

        Assert.That(options.Count, Is.EqualTo(7));
        Assert.That(options.Inner.Label, Is.EqualTo("class default"));
    }

    private static IEnumerable<TestCaseData> Refused()
    {
        const string V = "vhost 'v1': protocols.sample";
        yield return Case("object for a whole number", """{ "count": { "n": 1 } }""", $"{V}.count: must be a whole number from -2147483648 to 2147483647, was an object.");
        yield return Case("null for a whole number", """{ "count": null }""", $"{V}.count: must be a whole number from -2147483648 to 2147483647, was null (this option cannot be null).");
        yield return Case("string for a whole number", """{ "count": "five" }""", $"{V}.count: must be a whole number from -2147483648 to 2147483647, was \"five\".");
        yield return Case("a fraction in quotes for a whole number", """{ "count": "5.5" }""", $"{V}.count: must be a whole number from -2147483648 to 2147483647, was \"5.5\".");
        yield return Case("fraction for a whole number", """{ "count": 1.5 }""", $"{V}.count: must be a whole number from -2147483648 to 2147483647, was 1.5.");
        yield return Case("array for a whole number", """{ "count": [ 1 ] }""", $"{V}.count: must be a whole number from -2147483648 to 2147483647, was an array.");
        yield return Case("out of the type's range", """{ "port": 70000 }""", $"{V}.port: must be a whole number from 0 to 65535, was 70000.");
        yield return Case("negative for an unsigned", """{ "port": -1 }""", $"{V}.port: must be a whole number from 0 to 65535, was -1.");
        yield return Case("beyond a long", """{ "big": 1e30 }""", $"{V}.big: must be a whole number from -9223372036854775808 to 9223372036854775807, was 1e30.");
        yield return Case("string for true or false", """{ "enabled": "yes" }""", $"{V}.enabled: must be true or false, was \"yes\".");
        yield return Case("number for true or false", """{ "enabled": 1 }""", $"{V}.enabled: must be true or false, was 1.");
        yield return Case("number for a string", """{ "nickname": 12 }""", $"{V}.nickname: must be a string in quotes, was 12.");
        yield return Case("null for a non-nullable string", """{ "label": null }""", $"{V}.label: must be a string in quotes, was null (this option cannot be null).");
        yield return Case("string for a number", """{ "ratio": "half" }""", $"{V}.ratio: must be a number, was \"half\".");
        yield return Case("unknown enum name", """{ "mode": "fastest" }""", $"{V}.mode: must be one of \"slow\", \"fast\", was \"fastest\".");
        yield return Case("enum as a number", """{ "mode": 1 }""", $"{V}.mode: must be one of \"slow\", \"fast\", was 1.");
        yield return Case("enum as a numeric string", """{ "mode": "1" }""", $"{V}.mode: must be one of \"slow\", \"fast\", was \"1\".");
        yield return Case("bad time span", """{ "delay": "5 seconds" }""", $"{V}.delay: must be a time span in quotes such as \"00:00:05\", was \"5 seconds\".");
        yield return Case("two characters for one", """{ "letter": "ab" }""", $"{V}.letter: must be a single character in quotes, was \"ab\".");
        yield return Case("unknown key", """{ "colour": 1 }""", $"{V}.colour: is not an option of this protocol (its options: enabled, mode, ratio, port, count, big, maybe, letter, delay, label, nickname, inner, names, fixedList, codes, children, weights).");
        yield return Case("unknown nested key", """{ "inner": { "limt": 1 } }""", $"{V}.inner.limt: is not an option of this protocol (its options: limit, label).");
        yield return Case("wrong nested type", """{ "inner": { "limit": "x" } }""", $"{V}.inner.limit: must be a whole number from -2147483648 to 2147483647, was \"x\".");
        yield return Case("number for an object", """{ "inner": 5 }""", $"{V}.inner: must be an object {{ ... }}, was 5.");
        yield return Case("null for a non-nullable object", """{ "inner": null }""", $"{V}.inner: must be an object {{ ... }}, was null (this option cannot be null).");
        yield return Case("string for a list", """{ "names": "a,b" }""", $"{V}.names: must be an array [ ... ], was \"a,b\".");
        yield return Case("object for a list", """{ "names": { "0": "a" } }""", $"{V}.names: must be an array [ ... ], was an object.");
        yield return Case("wrong list element", """{ "names": [ "a", 3 ] }""", $"{V}.names[1]: must be a string in quotes, was 3.");
        yield return Case("null list element", """{ "codes": [ 1, null ] }""", $"{V}.codes[1]: must be a whole number from -2147483648 to 2147483647, was null (this option cannot be null).");
        yield return Case("wrong key in a list's object", """{ "children": [ { "limit": 1 }, { "size": 2 } ] }""", $"{V}.children[1].size: is not an option of this protocol (its options: limit, label).");
        yield return Case("array for a map", """{ "weights": [ 1 ] }""", $"{V}.weights: must be an object {{ \"key\": value }}, was an array.");
        yield return Case("wrong map value", """{ "weights": { "x": "heavy" } }""", $"{V}.weights.x: must be a whole number from -2147483648 to 2147483647, was \"heavy\".");
        yield return Case("key twice in other case", """{ "count": 1, "Count": 2 }""", $"{V}.Count: is given twice (keys differ only in case); each key may appear once.");

        static TestCaseData Case(string name, string vhost, string message) => new TestCaseData(vhost, message).SetName("Refused_" + name.Replace(' ', '_'));
    }

    [TestCaseSource(nameof(Refused))]
    public void ABadVhostValue_IsRefusedWithItsMessage(string vhost, string message)
    {
        var ex = Assert.Throws<ProtocolOptionsException>(() => Bind(Defaults, vhost));

        Assert.That(ex!.Message, Is.EqualTo(message));
    }

    [Test]
    public void ABadDefault_NamesTheManifest()
    {
        var ex = Assert.Throws<ProtocolOptionsException>(() => Bind("""{ "inner": { "limit": true } }""", """{ "count": 2 }"""));

        Assert.That(ex!.Message, Is.EqualTo("the manifest of plugin 'sample-plugin': protocols.sample.options.inner.limit: must be a whole number from -2147483648 to 2147483647, was true."));
    }

    [Test]
    public void ABadDefault_ReplacedByTheVhost_IsNotAnError()
    {
        Assert.That(Bind("""{ "count": "many" }""", """{ "count": 3 }""").Count, Is.EqualTo(3));
    }

    [Test]
    public void ALayerThatIsNotAnObject_IsRefused()
    {
        var ex = Assert.Throws<ProtocolOptionsException>(() => Bind(null, "[ 1 ]"));

        Assert.That(ex!.Message, Is.EqualTo("vhost 'v1': protocols.sample: must be an object { ... } of options, was array."));
    }

    [Test]
    public void WithLines_TheMessageNamesTheFileAndLine()
    {
        var lines = new ProtocolOptionLines("server.json", new Dictionary<string, int> { [""] = 3, ["inner"] = 4, ["inner.limit"] = 5 });

        var ex = Assert.Throws<ProtocolOptionsException>(() => Bind(null, """{ "inner": { "limit": "x", "size": 1 } }""", lines));
        var unknown = Assert.Throws<ProtocolOptionsException>(() => Bind(null, """{ "inner": { "size": 1 } }""", lines));

        Assert.That(ex!.Message, Is.EqualTo("vhost 'v1': protocols.sample.inner.limit: must be a whole number from -2147483648 to 2147483647, was \"x\" (server.json, line 5)"));
        Assert.That(unknown!.Message, Does.EndWith("(server.json, line 4)"), "a key not in the map gets the nearest enclosing key's line");
    }

    [Test]
    public void AnOptionsTypeTheBinderCannotFill_SaysSo()
    {
        var context = Create(null, """{ "set": [ 1 ] }""");

        var ex = Assert.Throws<ProtocolOptionsException>(() => context.BindOptions(new UnsupportedOptions()));

        Assert.That(ex!.Message, Does.StartWith("vhost 'v1': protocols.sample.set: cannot be bound"));
    }

    private static SampleOptions Bind(string? defaults, string? vhost, ProtocolOptionLines? lines = null)
    {
        var options = new SampleOptions();
        Create(defaults, vhost, lines).BindOptions(options);
        return options;
    }

    private static ProtocolContext Create(string? defaults, string? vhost, ProtocolOptionLines? lines = null)
        => new(
            "v1",
            "sample",
            "sample-plugin",
            Parse(defaults),
            Parse(vhost),
            NullLoggerFactory.Instance,
            new FakeTimeProvider(),
            new Mock<IServerStatusSource>(MockBehavior.Strict).Object,
            vhostOptionLines: lines);

    private static JsonElement? Parse(string? json)
    {
        if (json is null)
        {
            return null;
        }

        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    private sealed class SampleOptions
    {
        public bool Enabled { get; set; }

        public SampleMode Mode { get; set; }

        public double Ratio { get; set; }

        public ushort Port { get; set; }

        public int Count { get; set; } = 7;

        public long Big { get; set; }

        public int? Maybe { get; set; }

        public char Letter { get; set; }

        public TimeSpan Delay { get; set; }

        public string Label { get; set; } = "";

        public string? Nickname { get; set; }

        public SampleInner Inner { get; set; } = new();

        public IList<string> Names { get; set; } = [];

        public IList<string> FixedList { get; } = new List<string>();

        public int[] Codes { get; set; } = [];

        public IReadOnlyList<SampleInner> Children { get; set; } = [];

        public IDictionary<string, int> Weights { get; set; } = new Dictionary<string, int>();
    }

    private sealed class SampleInner
    {
        public int Limit { get; set; }

        public string Label { get; set; } = "class default";
    }

    private sealed class UnsupportedOptions
    {
        public HashSet<int> Set { get; set; } = [];
    }

    private enum SampleMode
    {
        Slow,
        Fast,
    }
}
