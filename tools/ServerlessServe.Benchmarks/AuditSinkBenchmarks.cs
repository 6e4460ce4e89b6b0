using System.Security.Cryptography;
using Azure.Storage.Blobs;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessServe.Core.Audit;
using ServerlessServe.Hosting.LocalState;
using ServerlessServe.Local;

namespace ServerlessServe.Benchmarks;

/// <summary>
/// The audit sink's throughput on a real Azurite (started by the benchmark): <see cref="Burst"/> records appended at once,
/// committed by group commit with signed tree heads every 100 records, with and without the witness. The mean per
/// operation is the time per record, so records/s = 1 / mean. Needs Node (tools/azurite), as <c>ssctl up</c> does. Run with
/// <c>--filter '*AuditSink*' --job short --inProcess</c> (docs/audit.md, "Performance").
/// </summary>
public class AuditSinkBenchmarks
{
    private const int Burst = 4096;
    private Azurite _azurite = null!;
    private BlobAuditSink _sink = null!;
    private ECDsa _key = null!;
    private ECDsa _witnessKey = null!;
    private AuditEvent _event = null!;
    private string _folder = null!;

    /// <summary>Whether every tree head is also countersigned into a witness container.</summary>
    [Params(false, true)]
    public bool Witness { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        (_azurite, _folder) = StartAzurite();
        var service = new BlobServiceClient(_azurite.ConnectionString);
        _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        _witnessKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var options = new AuditOptions { CheckpointKey = _key };
        if (Witness)
        {
            options.Witness = new AuditWitnessOptions { Key = _witnessKey, ContainerClient = service.GetBlobContainerClient("audit-witness") };
        }

        _sink = new BlobAuditSink(service.GetBlobContainerClient("audit"), options, NullLogger<BlobAuditSink>.Instance, TimeProvider.System);
        _sink.Start();
        _event = SampleEvent();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _sink.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _azurite.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _key.Dispose();
        _witnessKey.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary><see cref="Burst"/> concurrent appends, each returning once its record is durably committed.</summary>
    [Benchmark(OperationsPerInvoke = Burst)]
    public async Task AppendBurst()
    {
        var appends = new Task[Burst];
        for (var i = 0; i < Burst; i++)
        {
            appends[i] = _sink.AppendAsync(_event, CancellationToken.None).AsTask();
        }

        await Task.WhenAll(appends).ConfigureAwait(false);
    }

    /// <summary>An Azurite of its own in a temporary folder (the caller deletes it), started as the local stack starts it.</summary>
    internal static (Azurite Azurite, string Folder) StartAzurite()
    {
        var root = LocalStateKeys.FindRepositoryRoot(AppContext.BaseDirectory) ?? LocalStateKeys.FindRepositoryRoot(Environment.CurrentDirectory)
            ?? throw new InvalidOperationException("Run from the repository (tools/azurite is needed).");
        var folder = Directory.CreateTempSubdirectory("ssv-bench-azurite-").FullName;
        return (Azurite.StartAsync(root, Path.Combine(folder, "data"), folder, 0, 0, 0, AzuritePersistence.Disk, CancellationToken.None).GetAwaiter().GetResult(), folder);
    }

    /// <summary>The audit event of a released credit-risk request, as the gateway writes one.</summary>
    internal static AuditEvent SampleEvent() => new()
    {
        Time = DateTimeOffset.UtcNow,
        RequestId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
        Caller = new string('c', 32),
        Operation = "infer",
        Model = "credit-risk",
        ModelVersion = "1",
        ManifestDigest = new string('a', 64),
        InputSha256 = new string('b', 64),
        OutputSha256 = new string('d', 64),
        Stages = new Dictionary<string, string>(StringComparer.Ordinal) { ["resolve"] = "pass", ["validate"] = "pass", ["infer"] = "pass", ["redact"] = "pass" },
        Redactions = new Dictionary<string, int>(StringComparer.Ordinal) { ["hardened_outputs"] = 1 },
        Outcome = AuditEvent.Released,
        LatencyMs = 3.5,
    };
}
