using System.Net.Sockets;
using DurableTask.AzureStorage;
using DurableTask.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.DurableTask.Testing.Sidecar;
using Microsoft.DurableTask.Testing.Sidecar.Grpc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ServerlessServe.Jobs.Standalone;

/// <summary>
/// The standalone host's durable backend: the Durable Task gRPC sidecar (<see cref="TaskHubGrpcServer"/>) serving the
/// Azure Storage orchestration service (queues, tables, blobs — Azurite locally), in this process, to this process's
/// Durable Task worker and client. It listens on a Unix socket in a folder only this user can open, never on a port.
/// Orchestration state lives in storage, so a job survives a restart of the process. The folder goes when the sidecar
/// is disposed; folders left by killed processes are removed by the next one to start (<see cref="SidecarFolders"/>).
/// </summary>
internal sealed class DurableSidecar : IHostedService, IAsyncDisposable
{
    private readonly string _connectionString;
    private readonly JobOptions _options;
    private readonly ILoggerFactory _loggers;
    private readonly TimeProvider _time;
    private readonly string _directory;
    private WebApplication? _server;

    /// <summary>How long another gateway's folder may stay empty (made, not yet listened in) before it counts as stale.</summary>
    private static readonly TimeSpan StartingFolderGrace = TimeSpan.FromMinutes(10);

    public DurableSidecar(string connectionString, JobOptions options, ILoggerFactory loggers, TimeProvider time)
    {
        _connectionString = connectionString;
        _options = options;
        _loggers = loggers;
        _time = time;
        var swept = SidecarFolders.SweepStale(Path.GetTempPath(), time.GetUtcNow().UtcDateTime, StartingFolderGrace);
        if (swept > 0)
        {
            Log.StaleSidecarFoldersRemoved(loggers.CreateLogger<DurableSidecar>(), swept, Path.GetTempPath());
        }

        _directory = Directory.CreateTempSubdirectory(SidecarFolders.Prefix).FullName;
        SocketPath = Path.Combine(_directory, SidecarFolders.SocketName);
        Channel = GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions
        {
            // A work item carries its orchestration's history, which for a large job is more than gRPC's default 4 MB;
            // past it the worker could not take the item, and the dispatcher would renew its lock for ever.
            MaxReceiveMessageSize = MaxMessageBytes,
            MaxSendMessageSize = MaxMessageBytes,
            HttpHandler = new SocketsHttpHandler
            {
                ConnectCallback = async (_, cancellationToken) =>
                {
                    var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    try
                    {
                        await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath), cancellationToken).ConfigureAwait(false);
                        return new NetworkStream(socket, ownsSocket: true);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                },
            },
        });
    }

    /// <summary>The largest message either side of the sidecar's channel takes: 256 MiB (gRPC's default is 4 MB).</summary>
    public const int MaxMessageBytes = 256 * 1024 * 1024;

    public string SocketPath { get; }

    /// <summary>The channel the worker and the client talk to the sidecar over.</summary>
    public GrpcChannel Channel { get; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        IOrchestrationService service;
        IOrchestrationServiceClient client;
        if (_options.Backend == JobBackend.InMemory)
        {
            Log.InMemoryBackend(_loggers.CreateLogger<DurableSidecar>());
            var memory = new InMemoryOrchestrationService(_loggers);
            service = memory;
            client = memory;
        }
        else
        {
            var storage = new AzureStorageOrchestrationService(new AzureStorageOrchestrationServiceSettings
            {
                StorageAccountClientProvider = new StorageAccountClientProvider(_connectionString),
                TaskHubName = _options.TaskHub,
                MaxQueuePollingInterval = _options.MaxQueuePollingInterval,
                ControlQueueVisibilityTimeout = _options.VisibilityTimeout,
                WorkItemQueueVisibilityTimeout = _options.VisibilityTimeout,
                LoggerFactory = _loggers,
            });
            await storage.CreateIfNotExistsAsync().ConfigureAwait(false);
            service = storage;
            client = storage;
        }

        // The dispatchers run at the limits of what Azure runs and renew the locks of the work items they hold.
        service = new SidecarDispatch(service, _time, _loggers.CreateLogger<SidecarDispatch>());

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.ListenUnixSocket(SocketPath, l => l.Protocols = HttpProtocols.Http2));
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(_loggers);
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = MaxMessageBytes;
            grpc.MaxSendMessageSize = MaxMessageBytes;
        });
        builder.Services.AddSingleton<IOrchestrationService>(service);
        builder.Services.AddSingleton(client);
        builder.Services.AddSingleton<TaskHubGrpcServer>();
        _server = builder.Build();
        _server.MapGrpcService<TaskHubGrpcServer>();
        await _server.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is not null)
        {
            await _server.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS to clean up.
        }
    }
}
