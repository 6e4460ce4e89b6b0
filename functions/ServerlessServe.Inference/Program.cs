using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;
using ServerlessServe.Hosting.DependencyInjection;
using ServerlessServe.Hosting.Functions;
using ServerlessServe.Hosting.Standalone;
using ServerlessServe.Inference;
using ServerlessServe.Onnx;

// Before anything loads ONNX Runtime: its telemetry stays off (docs/design.md, "ONNX Runtime's telemetry").
OnnxRuntimeTelemetry.DisableBeforeLoad();

// One assembly, two hosts: under the Functions host (func start / Azure) or standalone on Kestrel.
if (StandaloneHost.IsStandalone(args))
{
    return await StandaloneHost.RunAsync(typeof(InferenceApp).Assembly, args, InferenceApp.DefaultUrl, InferenceApp.Configure);
}

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.UseMiddleware<WorkerLastResort>();
builder.AddWorkerConsoleWarnings();
builder.StopWithTheFunctionsHost();
InferenceApp.Configure(builder);
await builder.Build().RunAsync();
return 0;
