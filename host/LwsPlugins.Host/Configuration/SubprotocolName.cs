namespace LwsPlugins.Host.Configuration;

/// <summary>RFC 6455 subprotocol names are RFC 2616 tokens: visible ASCII except separators.</summary>
internal static class SubprotocolName
{
    private const string Separators = "()<>@,;:\\\"/[]?={} \t";

    public static bool IsValid(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (c is < '!' or > '~' || Separators.Contains(c, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}
