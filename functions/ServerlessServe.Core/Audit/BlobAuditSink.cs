using System.Security.Cryptography;
using System.Threading.Channels;
using Azure.Storage.Blobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Artifacts;

namespace ServerlessServe.Core.Audit;

/// <summary>
/// The audit log on blob storage: one hash chain per writer in append blobs, committed in groups, with signed
/// checkpoints. Fail closed: <see cref="AppendAsync"/> returns only once the record is durably stored and throws
/// <see cref="AuditUnavailableException"/> when it cannot be.
/// </summary>
/// <remarks>
/// <para>Layout (see <see cref="AuditBlobNames"/>): records are JSON lines (<see cref="AuditRecord"/>) in append blobs
/// <c>chains/{writerId}/{segment:D6}.jsonl</c>, rolled after <see cref="AuditOptions.SegmentMaxRecords"/> records or
/// <see cref="AuditOptions.SegmentMaxBytes"/>; checkpoints (<see cref="AuditCheckpoint"/>) go to
/// <c>checkpoints/{writerId}/{seq:D12}.json</c>, written once with <c>If-None-Match: *</c>.</para>
/// <para>Group commit: one background loop takes the first queued record, waits up to
/// <see cref="AuditOptions.GroupWindow"/> for more (at most <see cref="AuditOptions.MaxGroupRecords"/> /
/// <see cref="AuditOptions.MaxGroupBytes"/>), chains them and appends them in one append-block call conditioned on the
/// expected append position, so a retried request whose first attempt succeeded cannot write the group twice. Then it
/// completes every waiter. When an append fails, the loop re-reads the stored tail: if the group is there, it was
/// committed; otherwise every waiter of the group fails and the chain head stays where storage says it is, so no gap
/// or fork is ever written. If the tail cannot be read, records fail until it can.</para>
/// </remarks>
public sealed partial class BlobAuditSink : IAuditSink, IAsyncDisposable
{
    private readonly BlobContainerClient _container;
    private readonly AuditOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ECDsa _checkpointKey;
    private readonly bool _ownsKey;
    private readonly Channel<PendingRecord> _queue;
    private readonly Task _loop;
    private int _disposed;
    private long _appendCalls;
    private long _recordsCommitted;

    /// <summary>A sink over <paramref name="container"/> (its name wins over <see cref="AuditOptions.Container"/>).</summary>
    public BlobAuditSink(BlobContainerClient container, AuditOptions options, ILogger<BlobAuditSink>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(container);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _container = container;
        _options = options;
        _logger = logger ?? NullLogger<BlobAuditSink>.Instance;
        _time = timeProvider ?? TimeProvider.System;
        WriterId = options.WriterId ?? AuditOptions.NewWriterId();
        if (options.CheckpointKey is { } key)
        {
            _checkpointKey = key;
        }
        else
        {
            _checkpointKey = ECDsa.Create();
            _checkpointKey.ImportFromPem(options.CheckpointKeyPem);
            _ownsKey = true;
        }

        if (_checkpointKey.KeySize != 256)
        {
            throw new ArgumentException("The checkpoint key must be an ECDSA P-256 key.", nameof(options));
        }

        CheckpointKeyId = KeyIds.Compute(_checkpointKey);
        _queue = Channel.CreateBounded<PendingRecord>(new BoundedChannelOptions(options.QueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _loop = Task.Run(RunAsync);
    }

    /// <summary>The constructor used by dependency injection: the container named by <see cref="AuditOptions.Container"/>.</summary>
    [ActivatorUtilitiesConstructor]
    public BlobAuditSink(BlobServiceClient service, IOptions<AuditOptions> options, ILogger<BlobAuditSink> logger, TimeProvider timeProvider)
        : this(
            (service ?? throw new ArgumentNullException(nameof(service))).GetBlobContainerClient((options ?? throw new ArgumentNullException(nameof(options))).Value.Container),
            options.Value,
            logger,
            timeProvider)
    {
    }

    /// <summary>This writer's chain id.</summary>
    public string WriterId { get; }

    /// <summary>Key id of the checkpoint signing key (see <see cref="KeyIds"/>).</summary>
    public string CheckpointKeyId { get; }

    /// <summary>Append-block calls made so far (group commit makes this smaller than <see cref="RecordsCommitted"/>).</summary>
    public long AppendCalls => Interlocked.Read(ref _appendCalls);

    /// <summary>Records durably committed so far by this instance.</summary>
    public long RecordsCommitted => Interlocked.Read(ref _recordsCommitted);

    /// <inheritdoc />
    public async ValueTask AppendAsync(AuditEvent auditEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(auditEvent);
        if (!double.IsFinite(auditEvent.LatencyMs) || auditEvent.LatencyMs < 0)
        {
            throw new ArgumentException("Latency must be a finite, non-negative number.", nameof(auditEvent));
        }

        cancellationToken.ThrowIfCancellationRequested();
        var pending = new PendingRecord(auditEvent);
        try
        {
            await _queue.Writer.WriteAsync(pending, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException ex)
        {
            throw new AuditUnavailableException("The audit log is shutting down.", ex);
        }

        using var registration = cancellationToken.CanBeCanceled
            ? cancellationToken.Register(static state => ((PendingRecord)state!).Cancel(), pending)
            : default;
        await pending.Completion.Task.ConfigureAwait(false);
    }

    /// <summary>Commits every queued record, writes a final checkpoint and stops the loop.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        if (_head is { } head && head.Seq > _lastCheckpointSeq)
        {
            await TryWriteCheckpointAsync(head).ConfigureAwait(false);
        }

        if (_ownsKey)
        {
            _checkpointKey.Dispose();
        }
    }

    /// <summary>A record waiting for its group to commit.</summary>
    private sealed class PendingRecord(AuditEvent auditEvent)
    {
        public AuditEvent Event { get; } = auditEvent;

        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The caller gave up; if the record is not yet in a group it is not written.</summary>
        public void Cancel() => Completion.TrySetCanceled();
    }
}
