using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;
using ServerlessServe.Hosting.DependencyInjection;
using ServerlessServe.Hosting.Standalone;

// One assembly, two hosts: under the Functions host (func start / Azure) or standalone on Kestrel.
if (StandaloneHost.IsStandalone(args))
{
    return await StandaloneHost.RunAsync(typeof(Program).Assembly, args, "http://127.0.0.1:7071", AddGateway);
}

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
AddGateway(builder);
await builder.Build().RunAsync();
return 0;

// The gateway: callers' tokens, verified models, the inference app's client, audit, and the request pipeline.
static void AddGateway(IHostApplicationBuilder app) => app.AddServerlessServe()
    .AddModelCatalog()
    .AddCallerAuthentication()
    .AddServiceTokenIssuer()
    .AddInferenceClient()
    .AddAuditLog()
    .AddGatewayPipeline();
