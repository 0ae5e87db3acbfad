using LwsPlugins.Host.Vfs.StaticFiles;
using Microsoft.Extensions.Primitives;
using static LwsPlugins.Host.Vfs.StaticFiles.AcceptEncoding;

namespace LwsPlugins.Host.Tests.Vfs.StaticFiles;

[TestFixture]
internal sealed class AcceptEncodingTests
{
    [TestCase("gzip", Codings.Gzip)]
    [TestCase("GZIP", Codings.Gzip)]
    [TestCase("x-gzip", Codings.Gzip)]
    [TestCase("br", Codings.Brotli)]
    [TestCase("gzip, deflate, br", Codings.Gzip | Codings.Brotli)]
    [TestCase("gzip;q=0", Codings.None)]
    [TestCase("gzip;q=0.000", Codings.None)]
    [TestCase("gzip;q=0.001", Codings.Gzip)]
    [TestCase("gzip; q=1.0", Codings.Gzip)]
    [TestCase("*", Codings.Gzip | Codings.Brotli)]
    [TestCase("*;q=0", Codings.None)]
    [TestCase("*, br;q=0", Codings.Gzip)]
    [TestCase("br;q=0.5, *;q=0", Codings.Brotli)]
    [TestCase("gzip;q=abc", Codings.None)]
    [TestCase("gzip;q=2", Codings.None)]
    [TestCase("identity", Codings.None)]
    [TestCase("deflate", Codings.None)]
    [TestCase("", Codings.None)]
    [TestCase(" , ,gzip", Codings.Gzip)]
    [TestCase("gzipx, brotli", Codings.None)]
    public void Parse_AcceptsACodingNamedOrStarred_WithAQualityAboveZero(string header, Codings expected)
        => Assert.That(Parse(new StringValues(header)), Is.EqualTo(expected));

    [Test]
    public void Parse_ReadsEveryHeaderLine()
        => Assert.That(Parse(new StringValues(["gzip;q=0", "br"])), Is.EqualTo(Codings.Brotli));
}
