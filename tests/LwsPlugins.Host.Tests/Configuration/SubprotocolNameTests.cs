using LwsPlugins.Host.Configuration;

namespace LwsPlugins.Host.Tests.Configuration;

[TestFixture]
public sealed class SubprotocolNameTests
{
    [TestCase("a")]
    [TestCase("lws-minimal")]
    [TestCase("dumb-increment-protocol")]
    [TestCase("Chat.V2_beta")]
    [TestCase("!#$%&'*+-.^_`|~")]
    [TestCase("0123456789")]
    public void IsValid_Token_IsAccepted(string name)
    {
        Assert.That(SubprotocolName.IsValid(name), Is.True);
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("a b")]
    [TestCase(" a")]
    [TestCase("a\tb")]
    [TestCase("a(b")]
    [TestCase("a)b")]
    [TestCase("a<b")]
    [TestCase("a>b")]
    [TestCase("a@b")]
    [TestCase("a,b")]
    [TestCase("a;b")]
    [TestCase("a:b")]
    [TestCase("a\\b")]
    [TestCase("a\"b")]
    [TestCase("a/b")]
    [TestCase("a[b")]
    [TestCase("a]b")]
    [TestCase("a?b")]
    [TestCase("a=b")]
    [TestCase("a{b")]
    [TestCase("a}b")]
    [TestCase("a\u0001b")]
    [TestCase("a\u001fb")]
    [TestCase("a\u007fb")]
    [TestCase("a\nb")]
    [TestCase("caf\u00e9")]
    [TestCase("a\u00a0b")]
    [TestCase("\u043f\u0440\u043e\u0442\u043e")]
    public void IsValid_SeparatorControlNonAsciiOrEmpty_IsRejected(string? name)
    {
        Assert.That(SubprotocolName.IsValid(name), Is.False);
    }
}
