using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;
using ServerlessServe.Core.Hosting;
using ServerlessServe.Core.Hosting.Standalone;

// One assembly, two hosts: under the Functions host (func start / Azure) or standalone on Kestrel.
if (StandaloneHost.IsStandalone(args))
{
    return await StandaloneHost.RunAsync(typeof(Program).Assembly, args, "http://127.0.0.1:7071", (services, configuration) => services.AddServerlessServeGateway(configuration));
}

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.Services.AddServerlessServeGateway(builder.Configuration);
await builder.Build().RunAsync();
return 0;
