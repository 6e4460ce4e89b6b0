using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Azure.Core;
using Azure.Storage.Blobs;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace ServerlessServe.Core.Tests.Fixtures;

/// <summary>
/// A real Azurite (blob, queue, table) on free loopback ports with its data in a temp folder, shared by the tests of
/// <see cref="AzuriteCollection"/>. Azurite comes from <c>tools/azurite</c> (installed with <c>npm ci</c> when missing);
/// start-up has a timeout and the process tree is killed on dispose.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    /// <summary>Azurite's published development account key (the same for every Azurite; not a secret).</summary>
    public const string AccountName = "devstoreaccount1";

    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(5);

    private readonly IMessageSink _diagnostics;
    private readonly StringBuilder _output = new();
    private Process? _process;
    private string? _dataDirectory;
    private int _containerCounter;

    public AzuriteFixture(IMessageSink diagnostics)
    {
        _diagnostics = diagnostics;
    }

    public int BlobPort { get; private set; }

    public int QueuePort { get; private set; }

    public int TablePort { get; private set; }

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};" +
        $"BlobEndpoint=http://127.0.0.1:{BlobPort}/{AccountName};" +
        $"QueueEndpoint=http://127.0.0.1:{QueuePort}/{AccountName};" +
        $"TableEndpoint=http://127.0.0.1:{TablePort}/{AccountName};";

    /// <summary>The repository root (the folder holding ServerlessServe.sln).</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>A blob client with few, quick retries (tests should fail fast, not wait out back-off).</summary>
    public BlobServiceClient CreateBlobServiceClient()
    {
        var options = new BlobClientOptions();
        options.Retry.MaxRetries = 1;
        options.Retry.Delay = TimeSpan.FromMilliseconds(50);
        options.Retry.Mode = RetryMode.Fixed;
        return new BlobServiceClient(ConnectionString, options);
    }

    /// <summary>A new, empty container with a unique name, so tests do not see each other's blobs.</summary>
    public async Task<BlobContainerClient> CreateContainerAsync(string prefix)
    {
        var name = $"{prefix.ToLowerInvariant()}-{Interlocked.Increment(ref _containerCounter)}-{Guid.NewGuid():N}";
        name = name[..Math.Min(name.Length, 63)];
        var container = CreateBlobServiceClient().GetBlobContainerClient(name);
        await container.CreateAsync();
        return container;
    }

    public async Task InitializeAsync()
    {
        var azurite = await EnsureAzuriteInstalledAsync();
        _dataDirectory = Directory.CreateTempSubdirectory("serverlessserve-azurite-").FullName;
        (BlobPort, QueuePort, TablePort) = FreePorts();

        var start = new ProcessStartInfo(azurite)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _dataDirectory,
        };
        foreach (var argument in new[]
                 {
                     "--silent", "--skipApiVersionCheck", "--loose",
                     "--blobHost", "127.0.0.1", "--blobPort", BlobPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--queueHost", "127.0.0.1", "--queuePort", QueuePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--tableHost", "127.0.0.1", "--tablePort", TablePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--location", _dataDirectory,
                 })
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("Azurite did not start.");
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = Stopwatch.StartNew();
        while (!await AnswersAsync(BlobPort))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"Azurite exited with code {_process.ExitCode}: {Output()}");
            }

            if (deadline.Elapsed > StartTimeout)
            {
                await DisposeAsync();
                throw new TimeoutException($"Azurite did not answer on port {BlobPort} within {StartTimeout.TotalSeconds} s: {Output()}");
            }

            await Task.Delay(100);
        }

        _diagnostics.OnMessage(new DiagnosticMessage($"Azurite started on 127.0.0.1:{BlobPort} (blob) in {deadline.ElapsedMilliseconds} ms."));
    }

    public Task DisposeAsync()
    {
        if (_process is { } process)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit(10_000);
                }
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }

            process.Dispose();
            _process = null;
        }

        if (_dataDirectory is not null)
        {
            try
            {
                Directory.Delete(_dataDirectory, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a temp folder.
            }

            _dataDirectory = null;
        }

        return Task.CompletedTask;
    }

    private static async Task<string> EnsureAzuriteInstalledAsync()
    {
        var folder = Path.Combine(RepositoryRoot, "tools", "azurite");
        var executable = Path.Combine(folder, "node_modules", ".bin", OperatingSystem.IsWindows() ? "azurite.cmd" : "azurite");
        if (File.Exists(executable))
        {
            return executable;
        }

        var npm = new ProcessStartInfo(OperatingSystem.IsWindows() ? "npm.cmd" : "npm")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepositoryRoot,
        };
        foreach (var argument in new[] { "ci", "--prefix", folder, "--no-audit", "--no-fund" })
        {
            npm.ArgumentList.Add(argument);
        }

        using var process = Process.Start(npm) ?? throw new InvalidOperationException("npm did not start.");
        var stderr = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(InstallTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("npm ci for tools/azurite did not finish in time.");
        }

        if (process.ExitCode != 0 || !File.Exists(executable))
        {
            throw new InvalidOperationException($"npm ci --prefix tools/azurite failed ({process.ExitCode}): {await stderr}");
        }

        return executable;
    }

    private static (int Blob, int Queue, int Table) FreePorts()
    {
        // Hold all three listeners at once so the three ports differ, then release them for Azurite.
        var listeners = Enumerable.Range(0, 3).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            listeners.ForEach(l => l.Start());
            var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
            return (ports[0], ports[1], ports[2]);
        }
        finally
        {
            listeners.ForEach(l => l.Stop());
        }
    }

    private static async Task<bool> AnswersAsync(int port)
    {
        try
        {
            using var client = new TcpClient();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await client.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
            return true;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "ServerlessServe.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("ServerlessServe.sln not found above the test assembly.");
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            if (_output.Length < 16_384)
            {
                _output.AppendLine(line);
            }
        }
    }

    private string Output()
    {
        lock (_output)
        {
            return _output.ToString();
        }
    }
}
