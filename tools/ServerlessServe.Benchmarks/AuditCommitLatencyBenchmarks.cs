using System.Security.Cryptography;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessServe.Core.Audit;
using ServerlessServe.Local;

namespace ServerlessServe.Benchmarks;

/// <summary>
/// What one request alone pays for its audit commit (concurrency 1, nothing to group with), on a real Azurite started by
/// the benchmark: <see cref="SinkAppend"/> is <see cref="BlobAuditSink.AppendAsync"/> awaited, as the gateway's audit
/// stage does; <see cref="BareAppend"/> is the one storage request inside it made directly (a conditional append of a
/// record-sized line to an append blob). Their difference is the sink's own share of the commit: preparing and chaining
/// the record, handing it to the commit loop and back, and its tree heads (one every 100 records, written between
/// groups). Run with <c>--filter '*AuditCommitLatency*' --job short --inProcess</c> and read the medians
/// (docs/performance.md).
/// </summary>
[MedianColumn]
public class AuditCommitLatencyBenchmarks
{
    private Azurite _azurite = null!;
    private BlobAuditSink _sink = null!;
    private AppendBlobClient _bare = null!;
    private ECDsa _key = null!;
    private AuditEvent _event = null!;
    private byte[] _line = null!;
    private long _position;
    private string _folder = null!;

    [GlobalSetup]
    public void Setup()
    {
        (_azurite, _folder) = AuditSinkBenchmarks.StartAzurite();
        var service = new BlobServiceClient(_azurite.ConnectionString);
        _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        _sink = new BlobAuditSink(service.GetBlobContainerClient("audit"), new AuditOptions { CheckpointKey = _key }, NullLogger<BlobAuditSink>.Instance, TimeProvider.System);
        _sink.Start();
        _event = AuditSinkBenchmarks.SampleEvent();

        // A line the size of the sink's own for this event (its canonical text, its hashes and the line's framing).
        _line = new byte[1100];
        RandomNumberGenerator.Fill(_line);
        var container = service.GetBlobContainerClient("bare");
        container.CreateIfNotExists();
        _bare = container.GetAppendBlobClient("lines.jsonl");
        _bare.Create();

        // Both paths warm: the sink's first group also writes its first tree head.
        _sink.AppendAsync(_event, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        BareAppend().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _sink.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _azurite.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _key.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>The storage request alone: one conditional append, as the sink makes per group.</summary>
    [Benchmark(Baseline = true)]
    public async Task BareAppend()
    {
        using var content = new MemoryStream(_line, writable: false);
        var appended = await _bare.AppendBlockAsync(content, new AppendBlobAppendBlockOptions
        {
            Conditions = new AppendBlobRequestConditions { IfAppendPositionEqual = _position },
        }).ConfigureAwait(false);
        _position = long.Parse(appended.Value.BlobAppendOffset, System.Globalization.CultureInfo.InvariantCulture) + _line.Length;
    }

    /// <summary>One record through the sink, returning once it is durably committed.</summary>
    [Benchmark]
    public Task SinkAppend() => _sink.AppendAsync(_event, CancellationToken.None).AsTask();
}
