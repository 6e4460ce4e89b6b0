using System.Diagnostics;
using System.Diagnostics.Metrics;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Hosting.Telemetry;

/// <summary>
/// OpenTelemetry for both apps: the <c>ServerlessServe</c> activity source and meter, exported to Azure Monitor when
/// <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> is set, to OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, else
/// nowhere (console export only when <c>ServerlessServe:Telemetry:Console</c> is true). Spans and metrics carry no
/// payloads and no raw caller ids.
/// </summary>
public static class TelemetryExtensions
{
    public const string SourceName = PipelineTelemetry.SourceName;

    public static ActivitySource ActivitySource => PipelineTelemetry.ActivitySource;

    public static Meter Meter => PipelineTelemetry.Meter;

    public static IServiceCollection AddServerlessServeTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var azureMonitor = configuration["APPLICATIONINSIGHTS_CONNECTION_STRING"];
        var otlp = configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        var console = configuration.GetValue<bool>("ServerlessServe:Telemetry:Console");
        if (string.IsNullOrEmpty(azureMonitor) && string.IsNullOrEmpty(otlp) && !console)
        {
            return services;
        }

        services.AddOpenTelemetry()
            .WithTracing(tracing =>
            {
                tracing.AddSource(SourceName);
                if (!string.IsNullOrEmpty(azureMonitor))
                {
                    tracing.AddAzureMonitorTraceExporter(o => { o.ConnectionString = azureMonitor; o.Credential = new Azure.Identity.DefaultAzureCredential(); });
                }

                if (!string.IsNullOrEmpty(otlp))
                {
                    tracing.AddOtlpExporter();
                }

                if (console)
                {
                    tracing.AddConsoleExporter();
                }
            })
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(SourceName);
                if (!string.IsNullOrEmpty(azureMonitor))
                {
                    metrics.AddAzureMonitorMetricExporter(o => { o.ConnectionString = azureMonitor; o.Credential = new Azure.Identity.DefaultAzureCredential(); });
                }

                if (!string.IsNullOrEmpty(otlp))
                {
                    metrics.AddOtlpExporter();
                }

                if (console)
                {
                    metrics.AddConsoleExporter();
                }
            });
        return services;
    }
}
