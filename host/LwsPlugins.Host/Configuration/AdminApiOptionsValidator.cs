using System.Net;

namespace LwsPlugins.Host.Configuration;

/// <summary>Checks the admin API's options: loopback only, and a real token.</summary>
internal static class AdminApiOptionsValidator
{
    public const int MinimumTokenLength = 16;

    public static IReadOnlyList<string> Validate(AdminApiOptions admin)
    {
        var errors = new List<string>();
        if (!admin.Enabled)
        {
            return errors;
        }

        if (!IPAddress.TryParse(admin.Address, out var address) || !IPAddress.IsLoopback(address))
        {
            errors.Add($"admin.address: must be a loopback address (the API is never exposed), was '{admin.Address}'.");
        }

        if (admin.Port is < 0 or > 65535)
        {
            errors.Add($"admin.port: must be between 0 and 65535, was {admin.Port}.");
        }

        if (string.IsNullOrWhiteSpace(admin.Token) || admin.Token.Length < MinimumTokenLength)
        {
            errors.Add($"admin.token: required when the API is enabled, at least {MinimumTokenLength} characters.");
        }

        return errors;
    }
}
