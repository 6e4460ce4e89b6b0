using System.Globalization;
using System.Net.Sockets;

namespace ServerlessServe.Local;

/// <summary>
/// The Azurite storage emulator pinned in <c>tools/azurite</c>: installed with <c>npm ci</c> when missing, started on
/// loopback ports with its data in a folder of our own, or in its own memory (<see cref="AzuritePersistence.Memory"/>).
/// </summary>
public sealed class Azurite : IAsyncDisposable
{
    /// <summary>Azurite's development storage account name.</summary>
    public const string AccountName = "devstoreaccount1";

    /// <summary>Azurite's published development account key (a well-known constant, not a secret).</summary>
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly ChildProcess _process;

    private Azurite(ChildProcess process, int blobPort, int queuePort, int tablePort, AzuritePersistence persistence)
    {
        _process = process;
        Persistence = persistence;
        BlobPort = blobPort;
        QueuePort = queuePort;
        TablePort = tablePort;
    }

    /// <summary>Where this Azurite keeps what it stores.</summary>
    public AzuritePersistence Persistence { get; }

    public int BlobPort { get; }

    public int QueuePort { get; }

    public int TablePort { get; }

    public bool HasExited => _process.HasExited;

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey}"
        + $";BlobEndpoint=http://127.0.0.1:{BlobPort}/{AccountName}"
        + $";QueueEndpoint=http://127.0.0.1:{QueuePort}/{AccountName}"
        + $";TableEndpoint=http://127.0.0.1:{TablePort}/{AccountName};";

    /// <summary>Path of the Azurite launcher under <paramref name="repositoryRoot"/>.</summary>
    public static string Executable(string repositoryRoot) =>
        Path.Combine(repositoryRoot, "tools", "azurite", "node_modules", ".bin", "azurite");

    /// <summary>The file Azurite's output goes to when started with <paramref name="logDirectory"/>.</summary>
    public static string LogPath(string logDirectory) => Path.Combine(logDirectory, "azurite.log");

    /// <summary>Runs <c>npm ci</c> in <c>tools/azurite</c> when Azurite is not installed yet.</summary>
    public static async Task EnsureInstalledAsync(string repositoryRoot, string logDirectory, CancellationToken cancellationToken)
    {
        if (File.Exists(Executable(repositoryRoot)))
        {
            return;
        }

        // Test projects run in parallel and each may get here on a fresh clone: one installs, the others wait.
        await using var gate = await InstallLockAsync(Path.Combine(repositoryRoot, "tools", "azurite", ".install.lock"), cancellationToken).ConfigureAwait(false);
        if (File.Exists(Executable(repositoryRoot)))
        {
            return;
        }

        await ChildProcess.RunToCompletionAsync(
            "npm ci (azurite)",
            "npm",
            ["ci", "--no-audit", "--no-fund", "--prefix", Path.Combine(repositoryRoot, "tools", "azurite")],
            repositoryRoot,
            Path.Combine(logDirectory, "npm-azurite.log"),
            TimeSpan.FromMinutes(10),
            cancellationToken).ConfigureAwait(false);
    }

    private static async Task<FileStream> InstallLockAsync(string path, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(10);
        while (true)
        {
            try
            {
                // FileShare.None is an exclusive lock across processes (flock on Unix).
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(500, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Starts Azurite and waits until its blob and table ports answer; a port of 0 picks a free one. Its data is kept as
    /// <paramref name="persistence"/> says: on disk in <paramref name="dataDirectory"/>, or in its memory, where
    /// <paramref name="dataDirectory"/> is only its working folder (where it would keep a telemetry id, were telemetry
    /// on) and everything stored is lost when it stops. Fails with the log path in the message when Azurite exits or does
    /// not open its ports in time; cancelling stops it.
    /// </summary>
    public static async Task<Azurite> StartAsync(string repositoryRoot, string dataDirectory, string logDirectory, int blobPort, int queuePort, int tablePort, AzuritePersistence persistence, CancellationToken cancellationToken, bool ownSession = false)
    {
        await EnsureInstalledAsync(repositoryRoot, logDirectory, cancellationToken).ConfigureAwait(false);

        // A port picked free can be taken before Azurite binds it (by another process's outgoing connection, or another
        // test run's Azurite starting at the same moment): when Azurite exits at start on picked ports, pick again.
        var picked = blobPort == 0 || queuePort == 0 || tablePort == 0;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnceAsync(repositoryRoot, dataDirectory, logDirectory, blobPort, queuePort, tablePort, persistence, ownSession, cancellationToken).ConfigureAwait(false);
            }
            catch (AzuriteExitedException) when (picked && attempt < 3)
            {
            }
        }
    }

    private static async Task<Azurite> StartOnceAsync(string repositoryRoot, string dataDirectory, string logDirectory, int blobPort, int queuePort, int tablePort, AzuritePersistence persistence, bool ownSession, CancellationToken cancellationToken)
    {
        blobPort = blobPort == 0 ? FreePorts.Next() : blobPort;
        queuePort = queuePort == 0 ? FreePorts.Next() : queuePort;
        tablePort = tablePort == 0 ? FreePorts.Next() : tablePort;
        // Its readiness is judged by its ports answering: a port something else already listens on would answer at once,
        // and the stack would run on that stranger (an orphaned Azurite, a developer's own) while ours exited with
        // EADDRINUSE unseen (found in review 2026-12-07). Such a port is refused before anything starts.
        if (new[] { blobPort, queuePort, tablePort }.FirstOrDefault(p => !FreePorts.IsFree(p)) is var taken and > 0)
        {
            throw new AzuriteExitedException(string.Create(
                CultureInfo.InvariantCulture,
                $"Azurite cannot start: port {taken} on 127.0.0.1 is already in use (another Azurite, or a stack still running?)."));
        }

        Directory.CreateDirectory(dataDirectory);
        // --disableTelemetry: otherwise Azurite reports a sample of its storage operations to Application Insights over
        // the internet (docs/design.md, "Local state").
        List<string> arguments =
        [
            "--silent", "--skipApiVersionCheck", "--loose", "--disableProductStyleUrl", "--disableTelemetry",
            "--blobHost", "127.0.0.1", "--blobPort", Port(blobPort),
            "--queueHost", "127.0.0.1", "--queuePort", Port(queuePort),
            "--tableHost", "127.0.0.1", "--tablePort", Port(tablePort),
        ];

        // Azurite refuses --location with --inMemoryPersistence; without it, it works in (and would write to) its working
        // folder, so that is the data folder in both cases.
        arguments.AddRange(persistence == AzuritePersistence.Memory ? ["--inMemoryPersistence"] : ["--location", dataDirectory]);
        var process = ChildProcess.Start("azurite", Executable(repositoryRoot), arguments, dataDirectory, LogPath(logDirectory), ownSession: ownSession);

        // Azurite holds nothing we need flushed; do not wait long for it to stop.
        process.GracePeriod = TimeSpan.FromSeconds(3);
        var azurite = new Azurite(process, blobPort, queuePort, tablePort, persistence);
        try
        {
            await FreePorts.WaitForListenerAsync(blobPort, TimeSpan.FromSeconds(60), () => !process.HasExited, cancellationToken).ConfigureAwait(false);
            await FreePorts.WaitForListenerAsync(tablePort, TimeSpan.FromSeconds(30), () => !process.HasExited, cancellationToken).ConfigureAwait(false);
            if (process.HasExited)
            {
                throw new AzuriteExitedException(await ExitedMessageAsync(process, logDirectory).ConfigureAwait(false));
            }
        }
        catch (SocketException ex)
        {
            var exited = process.HasExited;
            var message = exited
                ? await ExitedMessageAsync(process, logDirectory).ConfigureAwait(false)
                : await process.FailureMessageAsync("Azurite did not open its ports in time", LogPath(logDirectory)).ConfigureAwait(false);
            await azurite.DisposeAsync().ConfigureAwait(false);
            throw exited ? new AzuriteExitedException(message, ex) : new InvalidOperationException(message, ex);
        }
        catch
        {
            await azurite.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return azurite;
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();

    private static Task<string> ExitedMessageAsync(ChildProcess process, string logDirectory) =>
        process.FailureMessageAsync($"Azurite exited with code {process.ExitCode}", LogPath(logDirectory));

    private static string Port(int port) => port.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>Where Azurite keeps what it stores.</summary>
public enum AzuritePersistence
{
    /// <summary>
    /// Files in its data folder (<c>--location</c>), kept across restarts: <c>ssctl up</c>, whose state a developer
    /// expects to find again.
    /// </summary>
    Disk,

    /// <summary>
    /// Its own memory (<c>--inMemoryPersistence</c>), lost when it stops: the tests, which never restart it. A write
    /// costs Azurite about 40 % less CPU (docs/design.md, "Azurite in memory for the tests").
    /// </summary>
    Memory,
}

/// <summary>Azurite exited while starting (a port taken, a bad data folder): the log it names says which.</summary>
public sealed class AzuriteExitedException : InvalidOperationException
{
    public AzuriteExitedException()
    {
    }

    public AzuriteExitedException(string message)
        : base(message)
    {
    }

    public AzuriteExitedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
