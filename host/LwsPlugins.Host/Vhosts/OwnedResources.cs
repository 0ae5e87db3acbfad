namespace LwsPlugins.Host.Vhosts;

/// <summary>Things a protocol instance was given that are released when it is disposed, in order.</summary>
internal sealed class OwnedResources(params IAsyncDisposable[] resources) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        foreach (var resource in resources)
        {
            await resource.DisposeAsync().ConfigureAwait(false);
        }
    }
}
