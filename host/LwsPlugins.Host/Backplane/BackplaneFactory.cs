using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Logging;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Host.Backplane;

/// <summary>Picks the context's fan-out backplane from its options: Redis when configured, else in-process.</summary>
internal static class BackplaneFactory
{
    public static BackplaneBase Create(BackplaneOptions options, InProcessBus? bus, TimeProvider time, ILoggerFactory loggerFactory)
    {
        var logger = loggerFactory.CreateLogger("LwsPlugins.Host.Backplane");
        if (options.Redis is not null && BackplaneOptionsValidator.Validate(options).Count == 0)
        {
            Log.BackplaneSelected(logger, $"Redis at {BackplaneOptionsValidator.Redact(options.Redis)}, channels prefixed '{options.ChannelPrefix}'");
            return new RedisBackplane(options, time, logger);
        }

        Log.BackplaneSelected(logger, bus is null ? "in-process (set backplane.redis or --redis to span servers)" : "in-process, shared bus");
        return new InProcessBackplane(bus ?? new InProcessBus(), options.ChannelPrefix ?? "", Math.Max(1, options.PublishQueueLimit), time, logger);
    }
}
