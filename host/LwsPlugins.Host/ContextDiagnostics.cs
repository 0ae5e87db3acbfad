namespace LwsPlugins.Host;

/// <summary>What a context owns at one moment: listeners, live and being-destroyed vhosts, sessions, protocol instances.</summary>
internal readonly record struct ContextDiagnostics(int Listeners, int Vhosts, int Destroying, int Sessions, int ProtocolInstances);
