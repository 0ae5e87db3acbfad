using StackExchange.Redis;

namespace LwsPlugins.Host.Configuration;

/// <summary>Checks the backplane's options; messages name the key.</summary>
internal static class BackplaneOptionsValidator
{
    public static IReadOnlyList<string> Validate(BackplaneOptions? backplane)
    {
        var errors = new List<string>();
        if (backplane is null)
        {
            errors.Add("backplane: must be an object, not null.");
            return errors;
        }

        if (backplane.Redis is { } redis)
        {
            try
            {
                if (ConfigurationOptions.Parse(redis).EndPoints.Count == 0)
                {
                    errors.Add($"backplane.redis: names no endpoint (host:port), was '{Redact(redis)}'.");
                }
            }
            catch (ArgumentException ex)
            {
                errors.Add($"backplane.redis: not a valid Redis connection string: {ex.Message}");
            }
        }

        if (backplane.ChannelPrefix is null)
        {
            errors.Add("backplane.channelPrefix: must be a string (it may be empty).");
        }

        if (!Enum.IsDefined(backplane.OnStartFailure))
        {
            errors.Add($"backplane.onStartFailure: must be \"fail\" or \"localOnly\", was {backplane.OnStartFailure}.");
        }

        if (backplane.ConnectTimeoutMs < 100)
        {
            errors.Add($"backplane.connectTimeoutMs: must be at least 100, was {backplane.ConnectTimeoutMs}.");
        }

        if (backplane.PublishQueueLimit < 1)
        {
            errors.Add($"backplane.publishQueueLimit: must be at least 1, was {backplane.PublishQueueLimit}.");
        }

        if (backplane.OutboxMaxMessages < 1)
        {
            errors.Add($"backplane.outboxMaxMessages: must be at least 1, was {backplane.OutboxMaxMessages}.");
        }

        if (backplane.OutboxMaxBytes < 1024)
        {
            errors.Add($"backplane.outboxMaxBytes: must be at least 1024, was {backplane.OutboxMaxBytes}.");
        }

        if (backplane.OutboxMaxAgeMs < 100)
        {
            errors.Add($"backplane.outboxMaxAgeMs: must be at least 100, was {backplane.OutboxMaxAgeMs}.");
        }

        if (backplane.StreamMaxLength < 100)
        {
            errors.Add($"backplane.streamMaxLength: must be at least 100, was {backplane.StreamMaxLength}.");
        }

        return errors;
    }

    /// <summary>The connection string without its password, for messages.</summary>
    public static string Redact(string connectionString)
        => string.Join(',', connectionString.Split(',').Select(part =>
            part.TrimStart().StartsWith("password=", StringComparison.OrdinalIgnoreCase) ? "password=***" : part));
}
