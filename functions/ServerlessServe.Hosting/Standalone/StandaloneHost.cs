using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Hosting.Functions;
using ServerlessServe.Hosting.Http;

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
    public static bool IsStandalone(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        // Whole options only ("--host", "--host=…"): a standalone start may carry "--hostBuilder:…" settings.
        if (args.Any(a => IsOption(a, "--functions-uri") || IsOption(a, "--host")))
        {
            return false;
        }

        return string.IsNullOrEmpty(Environment.GetEnvironmentVariable("Functions__Worker__HostEndpoint"));
    }

    private static bool IsOption(string argument, string name) =>
        argument == name || argument.StartsWith(name + "=", StringComparison.Ordinal);

    /// <summary>Builds and runs the standalone web host until it is stopped (Ctrl-C / SIGTERM).</summary>
    public static async Task<int> RunAsync(
        Assembly functionsAssembly,
        string[] args,
        string defaultUrl,
        Action<IHostApplicationBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(functionsAssembly);
        ArgumentNullException.ThrowIfNull(args);
        await using var app = Build(functionsAssembly, args, configure, builder =>
        {
            if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
            {
                builder.WebHost.UseUrls(defaultUrl);
            }
        });
        await app.RunAsync().ConfigureAwait(false);
        return 0;
    }

    /// <summary>
    /// Builds the standalone web host: first <paramref name="adjust"/> (the listening URL; a test adds settings, a test
    /// server or a service of its own here — registration uses <c>TryAdd</c>, so what is registered first wins), then
    /// the app's features (<paramref name="configure"/>), then one endpoint per function listed in the build's
    /// <c>functions.metadata</c> (the file the Functions host indexes), under the route prefix of host.json.
    /// </summary>
    /// <param name="functionsAssembly">The app assembly holding the functions.</param>
    /// <param name="args">Command-line arguments (configuration).</param>
    /// <param name="configure">The app's features.</param>
    /// <param name="adjust">Runs first: listening URL, test servers, test services.</param>
    /// <param name="appDirectory">The folder holding <c>functions.metadata</c> and <c>host.json</c>; default the app's own folder.</param>
    public static WebApplication Build(
        Assembly functionsAssembly,
        string[] args,
        Action<IHostApplicationBuilder> configure,
        Action<WebApplicationBuilder>? adjust = null,
        string? appDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(functionsAssembly);
        ArgumentNullException.ThrowIfNull(configure);
        appDirectory ??= AppContext.BaseDirectory;
        var routePrefix = HostJson.RoutePrefix(appDirectory);
        var (functions, triggered) = FunctionDiscovery.Resolve(functionsAssembly, FunctionsMetadata.Load(appDirectory));
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.ConfigureEndpointDefaults(KestrelRefusalBodies.UseOn);
        });
        builder.Services.AddSingleton(FunctionRouteTable.Load(appDirectory));
        builder.Services.AddSingleton(new StandaloneFunctions(triggered));
        if (triggered.Any(f => string.Equals(f.TriggerType, StandaloneTimers.TimerTrigger, StringComparison.OrdinalIgnoreCase)))
        {
            builder.Services.AddSingleton<IStandaloneTriggerSupport>(new TimerTriggerSupport());
            builder.Services.AddHostedService<StandaloneTimers>();
        }

        adjust?.Invoke(builder);
        configure(builder);
        EnsureTriggersSupported(builder.Services, triggered);

        // Kestrel refuses bodies a little above the protocol cap (the app answers 413 with a proper body below it).
        // The slow-request limits of the edge (408 past them; see EdgeOptions).
        builder.Services.AddOptions<KestrelServerOptions>().Configure<IOptions<ProtocolLimits>, IOptions<EdgeOptions>>((kestrel, limits, edge) =>
        {
            kestrel.Limits.MaxRequestBodySize = (long)limits.Value.MaxBodyBytes + (64 * 1024);
            kestrel.Limits.RequestHeadersTimeout = edge.Value.RequestHeadersTimeout;
            kestrel.Limits.MinRequestBodyDataRate = edge.Value.MinRequestBodyBytesPerSecond > 0
                ? new MinDataRate(edge.Value.MinRequestBodyBytesPerSecond, edge.Value.MinRequestBodyDataRateGracePeriod)
                : null;
        });
        var app = builder.Build();
        app.Use(KestrelRefusalBodies.MarkAppResponseAsync);
        app.UseMiddleware<LastResortMiddleware>();
        app.UseMiddleware<ErrorBodyMiddleware>();
        foreach (var function in functions)
        {
            var invoker = new FunctionInvoker(function);
            app.MapMethods(FunctionRouteTable.Combine(routePrefix, function.Route), function.Methods, invoker.InvokeAsync).WithName(function.Name);
        }

        return app;
    }

    private static void EnsureTriggersSupported(IServiceCollection services, IReadOnlyList<TriggeredFunction> triggered)
    {
        var supported = services
            .Where(d => d.ServiceType == typeof(IStandaloneTriggerSupport) && d.ImplementationInstance is IStandaloneTriggerSupport)
            .SelectMany(d => ((IStandaloneTriggerSupport)d.ImplementationInstance!).TriggerTypes)
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var function in triggered.Where(f => !supported.Contains(f.TriggerType)))
        {
            throw new InvalidOperationException(
                $"Function '{function.Name}' has a {function.TriggerType}, which no registered feature runs under the standalone host.");
        }
    }
}
