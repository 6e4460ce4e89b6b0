using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;
using ServerlessServe.Gateway;
using ServerlessServe.Hosting.DependencyInjection;
using ServerlessServe.Hosting.Functions;
using ServerlessServe.Hosting.Standalone;

// One assembly, two hosts: under the Functions host (func start / Azure) or standalone on Kestrel.
if (StandaloneHost.IsStandalone(args))
{
    return await StandaloneHost.RunAsync(typeof(GatewayApp).Assembly, args, GatewayApp.DefaultUrl, GatewayApp.Configure);
}

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.UseMiddleware<WorkerLastResort>();
builder.AddWorkerConsoleWarnings();
builder.StopWithTheFunctionsHost();
GatewayApp.Configure(builder);
await builder.Build().RunAsync();
return 0;
