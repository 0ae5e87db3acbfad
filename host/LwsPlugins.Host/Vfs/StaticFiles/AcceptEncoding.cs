using Microsoft.Extensions.Primitives;

namespace LwsPlugins.Host.Vfs.StaticFiles;

/// <summary>
/// Which precompressed codings an <c>Accept-Encoding</c> header accepts (RFC 9110 12.5.3): a coding is accepted when it
/// is named, or <c>*</c> is, with a quality above 0; a named coding's own quality wins over <c>*</c>. Read without
/// allocating, and only for a file that has a precompressed variant.
/// </summary>
internal static class AcceptEncoding
{
    [Flags]
    public enum Codings
    {
        None = 0,
        Gzip = 1,
        Brotli = 2,
    }

    public static Codings Parse(StringValues header)
    {
        var gzip = -1;
        var brotli = -1;
        var any = -1;
        foreach (var value in header)
        {
            var rest = (value ?? "").AsSpan();
            while (rest.Length > 0)
            {
                var comma = rest.IndexOf(',');
                var item = (comma < 0 ? rest : rest[..comma]).Trim();
                rest = comma < 0 ? [] : rest[(comma + 1)..];
                var semicolon = item.IndexOf(';');
                var name = (semicolon < 0 ? item : item[..semicolon]).Trim();
                var quality = semicolon < 0 ? 1 : Quality(item[(semicolon + 1)..]);
                if (name.Equals("gzip", StringComparison.OrdinalIgnoreCase) || name.Equals("x-gzip", StringComparison.OrdinalIgnoreCase))
                {
                    gzip = Math.Max(gzip, quality);
                }
                else if (name.Equals("br", StringComparison.OrdinalIgnoreCase))
                {
                    brotli = Math.Max(brotli, quality);
                }
                else if (name is "*")
                {
                    any = Math.Max(any, quality);
                }
            }
        }

        var codings = Codings.None;
        if ((gzip < 0 ? any : gzip) > 0)
        {
            codings |= Codings.Gzip;
        }

        if ((brotli < 0 ? any : brotli) > 0)
        {
            codings |= Codings.Brotli;
        }

        return codings;
    }

    /// <summary>The quality of <c>q=0.5</c>-style parameters in thousandths (1000 when there is no q); 0 for a bad one.</summary>
    private static int Quality(ReadOnlySpan<char> parameters)
    {
        foreach (var range in parameters.Split(';'))
        {
            var parameter = parameters[range].Trim();
            if (parameter.Length < 2 || (parameter[0] is not ('q' or 'Q')) || parameter[1] != '=')
            {
                continue;
            }

            var number = parameter[2..].Trim();
            if (number.Length == 0 || number[0] is not ('0' or '1'))
            {
                return 0;
            }

            var thousandths = (number[0] - '0') * 1000;
            if (number.Length > 1)
            {
                if (number[1] != '.' || number.Length > 5)
                {
                    return 0;
                }

                var scale = 100;
                foreach (var digit in number[2..])
                {
                    if (!char.IsAsciiDigit(digit))
                    {
                        return 0;
                    }

                    thousandths += (digit - '0') * scale;
                    scale /= 10;
                }
            }

            return Math.Min(thousandths, 1000);
        }

        return 1000;
    }
}
