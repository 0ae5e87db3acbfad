namespace LwsPlugins.Host.Plugins;

/// <summary>A plugin folder and the generations loaded from it, oldest first (a short history is kept for status).</summary>
internal sealed class PluginEntry(string id, string directory)
{
    private const int MaxHistory = 10;

    private readonly Lock _gate = new();
    private readonly List<PluginGeneration> _generations = [];
    private bool _removed;

    public string Id { get; } = id;

    public string Directory { get; } = directory;

    public IReadOnlyList<PluginGeneration> Generations
    {
        get
        {
            lock (_gate)
            {
                return [.. _generations];
            }
        }
    }

    /// <summary>The generation new instances come from; none once the plugin's folder is removed.</summary>
    public PluginGeneration? Active
    {
        get
        {
            lock (_gate)
            {
                return _removed ? null : _generations.LastOrDefault(g => g.State == PluginGenerationState.Active);
            }
        }
    }

    public PluginGeneration? Latest
    {
        get
        {
            lock (_gate)
            {
                return _generations.Count == 0 ? null : _generations[^1];
            }
        }
    }

    /// <summary>Set when the plugin's folder was removed: its generations retire and nothing of it is indexed.</summary>
    public bool Removed
    {
        get
        {
            lock (_gate)
            {
                return _removed;
            }
        }

        set
        {
            lock (_gate)
            {
                _removed = value;
            }
        }
    }

    public int NextGenerationNumber
    {
        get
        {
            lock (_gate)
            {
                return _generations.Count == 0 ? 1 : _generations[^1].Number + 1;
            }
        }
    }

    public void Add(PluginGeneration generation)
    {
        lock (_gate)
        {
            _generations.Add(generation);
            _removed = false;

            // Generations that still serve are never dropped from the history.
            while (_generations.Count > MaxHistory && _generations.FindIndex(IsFinished) is var index and >= 0)
            {
                _generations.RemoveAt(index);
            }
        }
    }

    private static bool IsFinished(PluginGeneration generation)
        => generation.State is PluginGenerationState.Unloaded or PluginGenerationState.Failed;
}
