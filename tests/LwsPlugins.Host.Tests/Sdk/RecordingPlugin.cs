using LwsPlugins.Sdk;

namespace LwsPlugins.Host.Tests.Sdk;

/// <summary>A plugin whose handler records every call; used by the test harness tests.</summary>
public sealed class RecordingPlugin : ProtocolPlugin<RecordingHandler>;
