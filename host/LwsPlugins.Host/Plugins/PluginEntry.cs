namespace LwsPlugins.Host.Plugins;

/// <summary>A plugin folder and the generations loaded from it, oldest first.</summary>
internal sealed class PluginEntry(string id, string directory)
{
    private readonly List<PluginGeneration> _generations = [];

    public string Id { get; } = id;

    public string Directory { get; } = directory;

    public IReadOnlyList<PluginGeneration> Generations => _generations;

    public PluginGeneration? Active => _generations.LastOrDefault(g => g.State == PluginGenerationState.Active);

    public PluginGeneration? Latest => _generations.Count == 0 ? null : _generations[^1];

    public int NextGenerationNumber => _generations.Count + 1;

    public void Add(PluginGeneration generation) => _generations.Add(generation);
}
