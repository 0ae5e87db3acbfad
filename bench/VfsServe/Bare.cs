// Bare Kestrel for the comparison (issue 24): UseStaticFiles over a PhysicalFileProvider and nothing else, no logging
// (as the issue measured it). Usage: VfsServe bare <port> <folder>.
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;

internal static class Bare
{
    public static async Task<int> RunAsync(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, int.Parse(args[1], CultureInfo.InvariantCulture)));
        await using var app = builder.Build();
        using var files = new PhysicalFileProvider(args[2]);
        app.UseStaticFiles(new StaticFileOptions { FileProvider = files });
        await app.RunAsync();
        return 0;
    }
}
