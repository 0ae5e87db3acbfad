using System.Composition;
using LwsPlugins.Sdk;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace LwsPlugins.Host.Plugins;

/// <summary>
/// The assemblies a plugin shares with the host (one type of each): the SDK and the abstractions it exposes. Anything
/// else a plugin uses, it loads privately. If <see cref="ExportAttribute"/> were not shared, composition would find no
/// exports at all.
/// </summary>
internal static class SharedAssemblies
{
    public static readonly Type[] Types =
    [
        typeof(IProtocolPlugin),
        typeof(ExportAttribute),
        typeof(ILogger),
        typeof(IOptions<>),
        typeof(ActivatorUtilities),
        typeof(StringValues),
        typeof(IFileProvider),
    ];
}
