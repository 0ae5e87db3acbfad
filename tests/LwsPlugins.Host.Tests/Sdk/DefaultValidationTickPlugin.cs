using LwsPlugins.Sdk;

namespace LwsPlugins.Host.Tests.Sdk;

/// <summary>A typed-options plugin that keeps the SDK's default validation (accept everything).</summary>
public sealed class DefaultValidationTickPlugin : ProtocolPlugin<TickHandler, TickOptions>;
