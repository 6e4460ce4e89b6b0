using Azure.Storage.Blobs;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Client.Grpc;
using Microsoft.DurableTask.Worker;
using Microsoft.DurableTask.Worker.Grpc;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Identity;
using ServerlessServe.Core.Serving.Stages;
using ServerlessServe.Hosting.DependencyInjection;
using ServerlessServe.Hosting.Standalone;
using ServerlessServe.Jobs.Standalone;

namespace ServerlessServe.Jobs;

/// <summary>The gateway's jobs feature.</summary>
public static class JobsBuilderExtensions
{
    /// <summary>
    /// Jobs: one pipeline per activity (validate: resolve → authorize → read → validate → budget → screen; infer → squeeze →
    /// extract; redact → canary; audit), the activities and the jobs API (authenticate → honey-caller → contain).
    /// Submission runs the model routes' checks, honey names included. Under the Functions host the Durable extension
    /// runs the orchestrations; under the standalone host this adds the Durable Task worker and client over an
    /// in-process sidecar on the app's storage. Needs <c>AddGatewayPipeline</c> (its stages and redactor),
    /// <c>AddCanaries</c>, <c>AddAuditLog</c> and <c>AddExtractionDetection</c> (screen and extract report to the callers'
    /// extraction states).
    /// </summary>
    public static IServerlessServeBuilder AddJobs(this IServerlessServeBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<JobOptions>().BindConfiguration(JobOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();

        // The Durable Task SDK (client, worker, sidecar) and framework log every job's start, each activity's start and
        // end, and its completion at Information: about 16 console lines per one-item job, which cost more CPU than the
        // job's own stages (measured in docs/performance.md). Warnings and errors still appear; each job's submission is
        // logged by JobEndpoints. The Functions host's host.json holds DurableTask.Core and .AzureStorage to the same.
        services.AddLogging(logging => logging
            .AddFilter("Microsoft.DurableTask", LogLevel.Warning)
            .AddFilter("DurableTask.Core", LogLevel.Warning)
            .AddFilter("DurableTask.AzureStorage", LogLevel.Warning));
        builder.AddPipeline<ValidateItemContext>(stages => stages.Add<ContainJobItems>().Add<ResolveModel>().Add<AuthorizeCaller>().Add<ReadRequest>().Add<ValidateRequest>().Add<ChargeBudget>().Add<ScreenInput>());
        builder.AddPipeline<InferItemContext>(stages => stages.Add<InferRemote>().Add<DetectAdversarial>().Add<DetectExtraction>());
        builder.AddPipeline<RedactItemContext>(stages => stages.Add<RedactResponse>().Add<DetectCanaryOutput>());
        builder.AddPipeline<AuditItemContext>(stages => stages.Finally<AuditRequest>());
        builder.AddPipeline<SubmissionRefusalContext>(stages => stages.Finally<AuditRequest>());
        services.TryAddSingleton(sp => new AuditReceipts(
            sp.GetRequiredService<BlobServiceClient>().GetBlobContainerClient(sp.GetRequiredService<IOptions<AuditOptions>>().Value.Container),
            sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<ReceiptCommits>();
        services.AddHostedService(sp => sp.GetRequiredService<ReceiptCommits>());
        services.TryAddSingleton(sp =>
        {
            var jobs = sp.GetRequiredService<IOptions<JobOptions>>().Value;
            return new PayloadStore(sp.GetRequiredService<BlobServiceClient>().GetBlobContainerClient(jobs.PayloadContainer), jobs.InlinePayloadBytes, jobs.TaskHub);
        });
        builder.AddContainment();
        builder.AddPipeline<JobRequestContext>(stages => stages.Add<Authenticate<CallerAuthenticator>>().Add<RefuseHoneyCaller>().Add<EnforceContainment>());
        services.TryAddSingleton<JobTraffic>();

        // The jobs every instance runs, posted on a table in the app's storage (needs the data account's
        // TableServiceClient, which AddGatewayPipeline registers).
        services.TryAddSingleton<JobTrafficBoard>();
        services.AddHostedService(sp => sp.GetRequiredService<JobTrafficBoard>());
        services.TryAddTransient<JobActivities>();
        services.TryAddSingleton<JobEndpoints>();
        services.TryAddSingleton<JobPurge>();

        var standalone = services.FirstOrDefault(d => d.ServiceType == typeof(StandaloneFunctions))?.ImplementationInstance as StandaloneFunctions;
        if (standalone is not null)
        {
            AddStandaloneBackend(services, standalone);
        }

        return builder;
    }

    private static void AddStandaloneBackend(IServiceCollection services, StandaloneFunctions functions)
    {
        services.AddSingleton<IStandaloneTriggerSupport>(new DurableTriggers());
        // The task hub lives where the Functions host keeps it (AzureWebJobsStorage, the runtime account in Azure), else
        // with the app's data (ServerlessServe:Storage).
        services.TryAddSingleton(sp => new DurableSidecar(
            sp.GetRequiredService<IConfiguration>()["AzureWebJobsStorage"] is { Length: > 0 } hostStorage
                ? hostStorage
                : sp.GetRequiredService<IConfiguration>()["ServerlessServe:Storage:ConnectionString"]
                    ?? throw new InvalidOperationException("Jobs under the standalone host need AzureWebJobsStorage or ServerlessServe:Storage:ConnectionString (Azurite)."),
            sp.GetRequiredService<IOptions<JobOptions>>().Value,
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetRequiredService<TimeProvider>()));

        // The sidecar starts before the worker that connects to it.
        services.AddHostedService(sp => sp.GetRequiredService<DurableSidecar>());
        services.AddDurableTaskWorker(worker =>
        {
            worker.UseGrpc();
            worker.AddTasks(registry => FunctionTasks.Register(registry, functions));
        });
        services.AddOptions<GrpcDurableTaskWorkerOptions>(Microsoft.Extensions.Options.Options.DefaultName)
            .Configure<DurableSidecar>((options, sidecar) => options.Channel = sidecar.Channel);
        services.AddDurableTaskClient(client =>
        {
            client.UseGrpc();
            client.RegisterDirectly();
        });
        services.AddOptions<GrpcDurableTaskClientOptions>(Microsoft.Extensions.Options.Options.DefaultName)
            .Configure<DurableSidecar>((options, sidecar) => options.Channel = sidecar.Channel);
    }

    private sealed class DurableTriggers : IStandaloneTriggerSupport
    {
        public IReadOnlyCollection<string> TriggerTypes { get; } = [FunctionTasks.OrchestrationTrigger, FunctionTasks.ActivityTrigger];
    }
}
