using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Azure.Core;
using Azure.Storage.Blobs;

namespace ServerlessServe.Core.Tests.Audit;

/// <summary>
/// A real Azurite blob service on a free loopback port with its own temp data folder, for the audit tests; killed on
/// dispose. (Outages are made with <see cref="LoopbackProxy"/> in front of it: Azurite's graceful stop, the only one
/// that keeps its metadata, can take minutes.)
/// </summary>
public sealed class AuditAzurite : IAsyncDisposable
{
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly string _location;
    private Process? _process;

    private AuditAzurite(int port, string location)
    {
        Port = port;
        _location = location;
    }

    public int Port { get; }

    public string ConnectionString => ConnectionStringFor(Port);

    /// <summary>The development-account connection string for a blob endpoint on <paramref name="port"/> (e.g. a proxy in front of this one).</summary>
    public static string ConnectionStringFor(int port) =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AccountKey};BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;";

    public static async Task<AuditAzurite> StartAsync()
    {
        var location = Path.Combine(Path.GetTempPath(), "ss-audit-azurite-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(location);
        var azurite = new AuditAzurite(FreePort(), location);
        await azurite.StartProcessAsync();
        return azurite;
    }

    /// <summary>A client with quick retries, so failure tests do not wait for the default back-off.</summary>
    public BlobServiceClient CreateServiceClient(Action<BlobClientOptions>? configure = null, int? port = null)
    {
        var options = new BlobClientOptions();
        options.Retry.MaxRetries = 2;
        options.Retry.Mode = RetryMode.Fixed;
        options.Retry.Delay = TimeSpan.FromMilliseconds(50);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(10);
        configure?.Invoke(options);
        return new BlobServiceClient(ConnectionStringFor(port ?? Port), options);
    }

    /// <summary>A client for a fresh, not yet created container with a unique name (or for <paramref name="name"/>).</summary>
    public BlobContainerClient NewContainer(Action<BlobClientOptions>? configure = null, int? port = null, string? name = null) =>
        CreateServiceClient(configure, port).GetBlobContainerClient(name ?? "audit-" + Guid.NewGuid().ToString("N")[..16]);

    /// <summary>A client for the existing container <paramref name="name"/>.</summary>
    public BlobContainerClient NewContainer(string name) => NewContainer(configure: null, port: null, name: name);

    public async Task StopAsync()
    {
        if (_process is { } process)
        {
            _process = null;
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            process.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(_location, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp folder.
        }
    }

    private async Task StartProcessAsync()
    {
        var executable = AzuriteExecutable();
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     "--blobHost", "127.0.0.1", "--blobPort", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--location", _location, "--silent", "--skipApiVersionCheck", "--loose",
                 })
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("Azurite did not start.");
        process.OutputDataReceived += static (_, _) => { };
        process.ErrorDataReceived += static (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < StartTimeout)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"Azurite exited with code {process.ExitCode}.");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }

        await StopAsync();
        throw new TimeoutException("Azurite did not open its port in time.");
    }

    private static string AzuriteExecutable()
    {
        var root = RepositoryRoot();
        var bin = Path.Combine(root, "tools", "azurite", "node_modules", ".bin", "azurite-blob");
        if (File.Exists(bin))
        {
            return bin;
        }

        if (!File.Exists(Path.Combine(root, "tools", "azurite", "package.json")))
        {
            throw new InvalidOperationException("tools/azurite/package.json is missing; Azurite cannot be installed.");
        }

        using var npm = Process.Start(new ProcessStartInfo("npm")
        {
            ArgumentList = { "install", "--prefix", Path.Combine(root, "tools", "azurite"), "--no-audit", "--no-fund" },
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("npm did not start.");
        npm.WaitForExit();
        return File.Exists(bin) ? bin : throw new InvalidOperationException("npm install did not provide Azurite.");
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "ServerlessServe.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Repository root (ServerlessServe.sln) not found.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>One Azurite shared by the audit test classes of this collection.</summary>
public sealed class AuditAzuriteFixture : IAsyncLifetime
{
    public AuditAzurite Azurite { get; private set; } = null!;

    public async Task InitializeAsync() => Azurite = await AuditAzurite.StartAsync();

    public async Task DisposeAsync() => await Azurite.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class AuditAzuriteCollection : ICollectionFixture<AuditAzuriteFixture>
{
    public const string Name = "Audit Azurite";
}
