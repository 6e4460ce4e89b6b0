using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Protocol;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ServerlessServe.Hosting.Standalone;

/// <summary>
/// Runs a Function App assembly without the Functions host: the same function classes and services, served by
/// ASP.NET Core on the same routes (with the route prefix from host.json).
/// </summary>
public static class StandaloneHost
{
    /// <summary>
    /// True when no Functions host started this process: the host passes <c>--functions-uri</c>
    /// (configuration key <c>Functions:Worker:HostEndpoint</c>) to the workers it starts.
    /// </summary>
    public static bool IsStandalone(string[] args, IConfiguration? configuration = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Any(a => a.StartsWith("--functions-uri", StringComparison.Ordinal) || a.StartsWith("--host", StringComparison.Ordinal)))
        {
            return false;
        }

        var endpoint = configuration?["Functions:Worker:HostEndpoint"]
            ?? Environment.GetEnvironmentVariable("Functions__Worker__HostEndpoint");
        return string.IsNullOrEmpty(endpoint);
    }

    /// <summary>
    /// The route table the standalone host serves, as JSON lines of <c>{name, methods, route}</c> with the prefix;
    /// printed by <c>--list-functions</c> so tests can compare it with the build's <c>functions.metadata</c>.
    /// </summary>
    public static string DescribeRoutes(Assembly functionsAssembly, string routePrefix)
    {
        var rows = FunctionDiscovery.HttpFunctions(functionsAssembly)
            .Select(f => new { name = f.Name, methods = f.Methods.Select(m => m.ToLowerInvariant()).Order(StringComparer.Ordinal).ToArray(), route = Combine(routePrefix, f.Route) });
        return JsonSerializer.Serialize(rows);
    }

    /// <summary>Builds and runs the standalone web host until it is stopped (Ctrl-C / SIGTERM).</summary>
    public static async Task<int> RunAsync(
        Assembly functionsAssembly,
        string[] args,
        string defaultUrl,
        Action<IHostApplicationBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(functionsAssembly);
        ArgumentNullException.ThrowIfNull(configure);
        var routePrefix = HostJson.RoutePrefix(AppContext.BaseDirectory);
        if (args.Contains("--list-functions"))
        {
            Console.Out.WriteLine(DescribeRoutes(functionsAssembly, routePrefix));
            return 0;
        }

        var builder = WebApplication.CreateSlimBuilder(args);
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            builder.WebHost.UseUrls(defaultUrl);
        }

        builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
        configure(builder);

        // Kestrel refuses bodies a little above the protocol cap (the app answers 413 with a proper body below it).
        builder.Services.AddOptions<KestrelServerOptions>().Configure<IOptions<ProtocolLimits>>((kestrel, limits) =>
            kestrel.Limits.MaxRequestBodySize = (long)limits.Value.MaxBodyBytes + (64 * 1024));
        await using var app = builder.Build();

        // Last line of defence, as the Functions host has its own: never a developer page or stack trace to a caller.
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // Everything unhandled becomes a bare 500; details go to the log.
            catch (Exception ex) when (!context.Response.HasStarted && ex is not OperationCanceledException)
#pragma warning restore CA1031
            {
                app.Logger.LogError(ex, "Unhandled exception");
                context.Response.Clear();
                context.Response.StatusCode = 500;
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("{\"error\":\"internal error\"}", context.RequestAborted).ConfigureAwait(false);
            }
        });
        foreach (var function in FunctionDiscovery.HttpFunctions(functionsAssembly))
        {
            var invoker = new FunctionInvoker(function);
            app.MapMethods(Combine(routePrefix, function.Route), function.Methods, invoker.InvokeAsync).WithName(function.Name);
        }

        await app.RunAsync().ConfigureAwait(false);
        return 0;
    }

    private static string Combine(string prefix, string route) =>
        "/" + string.Join('/', new[] { prefix.Trim('/'), route.Trim('/') }.Where(s => s.Length > 0));
}
