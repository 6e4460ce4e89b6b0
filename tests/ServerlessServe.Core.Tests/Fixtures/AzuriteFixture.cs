using System.Diagnostics;
using Azure.Core;
using Azure.Data.Tables;
using Azure.Storage;
using Azure.Storage.Blobs;
using ServerlessServe.Local;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace ServerlessServe.Core.Tests.Fixtures;

/// <summary>
/// One real Azurite for the tests of <see cref="AzuriteCollection"/>, started by the same <see cref="Azurite"/> launcher
/// as <c>ssctl up</c>: free loopback ports, its data in its own memory (nothing here restarts it, and a write costs it
/// about 40 % less CPU than on disk: docs/design.md), its working folder and log in a temp folder (deleted on dispose,
/// kept when start-up fails so its log can be read), a start timeout, and the process tree killed on dispose. Each test works in its own
/// container, so tests do not see each other's blobs.
/// </summary>
public sealed class AzuriteFixture(IMessageSink diagnostics) : IAsyncLifetime
{
    /// <summary>How long Azurite may take to answer once installed (installing has its own timeout in Core).</summary>
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private Azurite? _azurite;
    private string? _folder;
    private bool _keepFolder;

    /// <summary>The repository root (the folder holding ServerlessServe.sln).</summary>
    public static string RepositoryRoot { get; } =
        LocalState.FindRepositoryRoot(AppContext.BaseDirectory)
        ?? throw new InvalidOperationException("ServerlessServe.sln not found above the test assembly.");

    public int BlobPort => Started.BlobPort;

    /// <summary>Azurite's working folder (where it would keep a telemetry id, were its telemetry on).</summary>
    public string DataDirectory => Path.Combine(_folder ?? throw new InvalidOperationException("Azurite is not running."), "data");

    public string ConnectionString => Started.ConnectionString;

    private Azurite Started => _azurite ?? throw new InvalidOperationException("Azurite is not running.");

    /// <summary>
    /// A blob client with quick, fixed retries (tests fail fast instead of waiting out back-off), for Azurite's blob port
    /// or for <paramref name="blobPort"/> (e.g. a <c>FaultProxy</c> in front of it).
    /// </summary>
    public BlobServiceClient CreateBlobServiceClient(Action<BlobClientOptions>? configure = null, int? blobPort = null)
    {
        var options = new BlobClientOptions();
        options.Retry.MaxRetries = 2;
        options.Retry.Mode = RetryMode.Fixed;
        options.Retry.Delay = TimeSpan.FromMilliseconds(50);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(10);
        configure?.Invoke(options);
        var endpoint = new Uri($"http://127.0.0.1:{blobPort ?? BlobPort}/{Azurite.AccountName}");
        return new BlobServiceClient(endpoint, new StorageSharedKeyCredential(Azurite.AccountName, Azurite.AccountKey), options);
    }

    /// <summary>A client for a container that does not exist yet, with a unique name unless <paramref name="name"/> is given.</summary>
    public BlobContainerClient GetContainer(string? name = null, Action<BlobClientOptions>? configure = null, int? blobPort = null) =>
        CreateBlobServiceClient(configure, blobPort).GetBlobContainerClient(name ?? UniqueName("test"));

    /// <summary>A new, empty container with a unique name starting with <paramref name="prefix"/>.</summary>
    public async Task<BlobContainerClient> CreateContainerAsync(string prefix)
    {
        var container = GetContainer(UniqueName(prefix));
        await container.CreateAsync();
        return container;
    }

    /// <summary>
    /// A client for a table that does not exist yet, named <paramref name="prefix"/> and a unique suffix (letters and
    /// digits only, as table names must be), with quick, fixed retries.
    /// </summary>
    public TableClient GetTable(string prefix)
    {
        var options = new TableClientOptions();
        options.Retry.MaxRetries = 2;
        options.Retry.Mode = RetryMode.Fixed;
        options.Retry.Delay = TimeSpan.FromMilliseconds(50);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(10);
        var name = (prefix + Guid.NewGuid().ToString("N"))[..Math.Min(prefix.Length + 32, 63)];
        return new TableServiceClient(ConnectionString, options).GetTableClient(name);
    }

    public async Task InitializeAsync()
    {
        _folder = Directory.CreateTempSubdirectory("serverlessserve-azurite-").FullName;
        var logs = Path.Combine(_folder, "logs");
        var elapsed = Stopwatch.StartNew();
        try
        {
            await Azurite.EnsureInstalledAsync(RepositoryRoot, logs, CancellationToken.None);
            using var timeout = new CancellationTokenSource(StartTimeout);
            // In a session of its own, and so a scheduling group of its own (docs/design.md, "Tests"): the Functions-host
            // lane runs in a session of its own, and this Azurite, in the run's, shared that group's half of the machine
            // thread by thread with every busy test thread there: once it did not start within the 60 s.
            _azurite = await Azurite.StartAsync(RepositoryRoot, DataDirectory, logs, 0, 0, 0, AzuritePersistence.Memory, timeout.Token, ownSession: true);
        }
        catch (Exception ex)
        {
            _keepFolder = true;
            var message = $"Azurite (tools/azurite) did not start (start timeout {StartTimeout.TotalSeconds:0} s): {ex.Message} "
                + $"Logs: {logs} (azurite.log, npm-azurite.log).{Tail(Azurite.LogPath(logs))}";
            diagnostics.OnMessage(new DiagnosticMessage(message));
            throw new InvalidOperationException(message, ex);
        }

        diagnostics.OnMessage(new DiagnosticMessage(
            $"Azurite started on 127.0.0.1 (blob {_azurite.BlobPort}, queue {_azurite.QueuePort}, table {_azurite.TablePort}) in {elapsed.ElapsedMilliseconds} ms."));
    }

    public async Task DisposeAsync()
    {
        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
            _azurite = null;
        }

        if (_folder is not null && !_keepFolder)
        {
            try
            {
                Directory.Delete(_folder, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a temp folder.
            }
        }
    }

    /// <summary>A valid container name (lower case, at most 63 characters) that no other test uses.</summary>
    private static string UniqueName(string prefix)
    {
        var name = $"{prefix.ToLowerInvariant()}-{Guid.NewGuid():N}";
        return name[..Math.Min(name.Length, 63)];
    }

    /// <summary>The last lines of Azurite's log, for the failure message (it runs with --silent: only errors are there).</summary>
    private static string Tail(string logPath)
    {
        try
        {
            var lines = File.ReadLines(logPath).TakeLast(20).ToList();
            return lines.Count == 0 ? string.Empty : Environment.NewLine + string.Join(Environment.NewLine, lines);
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }
}
