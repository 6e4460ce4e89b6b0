using Microsoft.Extensions.Hosting;
using ServerlessServe.Hosting.DependencyInjection;
using ServerlessServe.Onnx;

namespace ServerlessServe.Inference;

/// <summary>What the inference app runs, for both hosts and the in-process tests: one line per feature.</summary>
public static class InferenceApp
{
    /// <summary>Where the standalone inference app listens unless told otherwise.</summary>
    public const string DefaultUrl = "http://127.0.0.1:7072";

    /// <summary>Only the gateway's managed identity (tokens for this app's audience), only signed and verified models, ONNX Runtime.</summary>
    public static void Configure(IHostApplicationBuilder app) => app.AddServerlessServe()
        .AddModelCatalog()
        .AddServiceAuthentication()
        .AddOnnxInference();
}
