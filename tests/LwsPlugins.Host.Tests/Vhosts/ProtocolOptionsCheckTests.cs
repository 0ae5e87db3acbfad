using System.Text.Json;
using LwsPlugins.Host.Vhosts;

namespace LwsPlugins.Host.Tests.Vhosts;

[TestFixture]
public sealed class ProtocolOptionsCheckTests
{
    [TestCase("""{ "enabled": "yes" }""", "enabled: 'yes' is not true or false.")]
    [TestCase("""{ "mode": "Fastest" }""", "mode: 'Fastest' is not one of Slow, Fast.")]
    [TestCase("""{ "ratio": "half" }""", "ratio: 'half' is not a number.")]
    [TestCase("""{ "port": 70000 }""", "port: '70000' is not a whole number from 0 to 65535.")]
    [TestCase("""{ "count": { "a": 1 } }""", "count: must be a whole number from -2147483648 to 2147483647, not an object.")]
    [TestCase("""{ "count": [ 1 ] }""", "count: must be a whole number from -2147483648 to 2147483647, not a list.")]
    [TestCase("""{ "inner": { "limit": "x" } }""", "inner.limit: 'x' is not a whole number from -2147483648 to 2147483647.")]
    [TestCase("""{ "inner": 5 }""", "inner: must be an object, not '5'.")]
    [TestCase("""{ "colour": 1 }""", "colour: is not an option of this protocol (its options: enabled, mode, ratio, port, count, inner, names, name).")]
    public void Find_NamesTheKeyAsWrittenTheValueAndWhatWasExpected(string json, string expected)
    {
        Assert.That(ProtocolOptionsCheck.Find(typeof(SampleOptions), JsonDocument.Parse(json).RootElement), Is.EqualTo(expected));
    }

    [TestCase("""{ "enabled": true, "Mode": "fast", "ratio": 0.5, "port": "8080", "count": null, "inner": { "limit": 3 }, "names": [ "a" ], "name": 12 }""")]
    [TestCase("{}")]
    public void Find_ValuesTheBinderAccepts_PassAsTheyAre(string json)
    {
        Assert.That(ProtocolOptionsCheck.Find(typeof(SampleOptions), JsonDocument.Parse(json).RootElement), Is.Null);
    }

    private sealed class SampleOptions
    {
        public bool Enabled { get; set; }

        public SampleMode Mode { get; set; }

        public double Ratio { get; set; }

        public ushort Port { get; set; }

        public int? Count { get; set; }

        public SampleInner Inner { get; set; } = new();

        public IList<string> Names { get; set; } = [];

        public string Name { get; set; } = "";
    }

    private sealed class SampleInner
    {
        public int Limit { get; set; }
    }

    private enum SampleMode
    {
        Slow,
        Fast,
    }
}
