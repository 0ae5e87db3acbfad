using System.Globalization;
using System.Reflection;
using LwsPlugins.Sdk.Status;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Sdk.Testing;

/// <summary>The harness's <see cref="IProtocolContext"/>: the services a host offers, and options copied from an object.</summary>
internal sealed class HarnessContext(ProtocolTestHarnessSettings settings, object? options) : IProtocolContext, IServiceProvider
{
    public string VhostName => settings.VhostName;

    public string ProtocolName => settings.ProtocolName;

    public string PluginId => settings.PluginId;

    public IServiceProvider Services => this;

    public object? GetService(Type serviceType)
    {
        if (serviceType == typeof(ILoggerFactory))
        {
            return settings.LoggerFactory;
        }

        if (serviceType == typeof(ILogger))
        {
            return settings.LoggerFactory.CreateLogger($"LwsPlugins.Plugins.{PluginId}");
        }

        if (serviceType == typeof(TimeProvider))
        {
            return settings.TimeProvider;
        }

        if (serviceType == typeof(IServerStatusSource))
        {
            return settings.ServerStatus;
        }

        return serviceType == typeof(IProtocolContext) || serviceType == typeof(IServiceProvider) ? this : null;
    }

    /// <summary>
    /// Copies the harness's options onto <paramref name="target"/>: every readable property of the options object (or
    /// every entry of a string-keyed dictionary) onto the writable property of the same name, case-insensitively. A
    /// name the target does not have, or a value that does not convert, throws as the host does for a bad manifest value.
    /// </summary>
    public void BindOptions(object target)
    {
        ArgumentNullException.ThrowIfNull(target);
        foreach (var (name, value) in Values())
        {
            var property = target.GetType().GetProperty(name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null || !property.CanWrite)
            {
                throw new ProtocolOptionsException(
                    $"Invalid options for protocol '{ProtocolName}' on vhost '{VhostName}': {target.GetType().Name} has no settable property '{name}'.");
            }

            property.SetValue(target, Convert(value, property.PropertyType, name));
        }
    }

    private IEnumerable<(string Name, object? Value)> Values()
    {
        switch (options)
        {
            case null:
                yield break;
            case IEnumerable<KeyValuePair<string, object?>> pairs:
                foreach (var (key, value) in pairs)
                {
                    yield return (key, value);
                }

                yield break;
            default:
                foreach (var property in options.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
                {
                    if (property.CanRead && property.GetIndexParameters().Length == 0)
                    {
                        yield return (property.Name, property.GetValue(options));
                    }
                }

                yield break;
        }
    }

    private object? Convert(object? value, Type type, string name)
    {
        if (value is null || type.IsInstanceOfType(value))
        {
            return value;
        }

        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        try
        {
            return underlying.IsEnum
                ? Enum.Parse(underlying, value.ToString()!, ignoreCase: true)
                : System.Convert.ChangeType(value, underlying, CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is InvalidCastException or FormatException or OverflowException or ArgumentException)
        {
            throw new ProtocolOptionsException(
                $"Invalid options for protocol '{ProtocolName}' on vhost '{VhostName}': '{value}' cannot be converted to {type.Name} for '{name}'.", ex);
        }
    }
}
