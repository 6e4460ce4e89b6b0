using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;
using ServerlessServe.Admin;
using ServerlessServe.Hosting.DependencyInjection;
using ServerlessServe.Hosting.Functions;
using ServerlessServe.Hosting.Standalone;

// One assembly, two hosts: under the Functions host (func start / Azure) or standalone on Kestrel.
if (StandaloneHost.IsStandalone(args))
{
    return await StandaloneHost.RunAsync(typeof(AdminApp).Assembly, args, AdminApp.DefaultUrl, AdminApp.Configure);
}

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.UseMiddleware<WorkerLastResort>();
builder.AddWorkerConsoleWarnings();
builder.StopWithTheFunctionsHost();
AdminApp.Configure(builder);
await builder.Build().RunAsync();
return 0;
