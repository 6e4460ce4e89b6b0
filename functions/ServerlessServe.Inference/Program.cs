using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;
using ServerlessServe.Hosting.DependencyInjection;
using ServerlessServe.Hosting.Standalone;
using ServerlessServe.Onnx;

// One assembly, two hosts: under the Functions host (func start / Azure) or standalone on Kestrel.
if (StandaloneHost.IsStandalone(args))
{
    return await StandaloneHost.RunAsync(typeof(Program).Assembly, args, "http://127.0.0.1:7072", AddInference);
}

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
AddInference(builder);
await builder.Build().RunAsync();
return 0;

// The inference app: only the gateway's service tokens, only signed and verified models, ONNX Runtime.
static void AddInference(IHostApplicationBuilder app) => app.AddServerlessServe()
    .AddModelCatalog()
    .AddServiceAuthentication()
    .AddOnnxInference();
