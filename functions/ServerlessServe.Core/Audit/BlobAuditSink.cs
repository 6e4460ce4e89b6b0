using System.Security.Cryptography;
using System.Threading.Channels;
using Azure.Storage.Blobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
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
/// <para>Checkpoints: right after the first group this sink commits (once its waiters are completed, before the next
/// group is taken), then whenever <see cref="AuditOptions.CheckpointEvery"/> records follow the last one or
/// <see cref="AuditOptions.CheckpointInterval"/> has passed with records not yet under one (also while idle), and on
/// dispose. A checkpoint failure never fails a request; it is retried.</para>
/// <para>An event is turned into its record before it is queued: one the format cannot hold fails its own caller with
/// <see cref="ArgumentException"/> and never its group. Should the loop ever end other than by dispose, the queue is
/// closed and every later append fails at once with <see cref="AuditUnavailableException"/>.</para>
/// </remarks>
public sealed partial class BlobAuditSink : IAuditSink, IAsyncDisposable
{
    private readonly BlobContainerClient _container;
    private readonly AuditOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ECDsa _checkpointKey;
    private readonly bool _ownsKey;
    private readonly BlobContainerClient? _witness;
    private readonly ECDsa? _witnessKey;
    private readonly bool _ownsWitnessKey;
    private readonly Channel<PendingRecord> _queue;
    private readonly object _startLock = new();
    private Task? _loop;
    private int _disposed;
    private long _appendCalls;
    private long _recordsCommitted;

    /// <summary>A sink over <paramref name="container"/> (its name wins over <see cref="AuditOptions.Container"/>).</summary>
    public BlobAuditSink(BlobContainerClient container, AuditOptions options, ILogger<BlobAuditSink> logger, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(container);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(timeProvider);
        options.Validate();
        _container = container;
        _options = options;
        _logger = logger;
        _time = timeProvider;
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
        var witness = options.Witness;
        if (witness.IsConfigured)
        {
            _witness = witness.ContainerClient
                ?? (witness.ConnectionString is { Length: > 0 } connection ? new BlobServiceClient(connection).GetBlobContainerClient(witness.Container) : null)
                ?? throw new ArgumentException("ServerlessServe:Audit:Witness needs its container (ContainerClient, or ConnectionString / BlobServiceUri through the host).", nameof(options));
            if (string.Equals(_witness.Uri.AbsoluteUri, container.Uri.AbsoluteUri, StringComparison.Ordinal))
            {
                throw new ArgumentException("The audit witness must be another container than the log's.", nameof(options));
            }

            if (witness.Key is { } witnessKey)
            {
                _witnessKey = witnessKey;
            }
            else
            {
                _witnessKey = ECDsa.Create();
                _witnessKey.ImportFromPem(witness.KeyPem);
                _ownsWitnessKey = true;
            }

            if (_witnessKey.KeySize != 256 || string.Equals(KeyIds.Compute(_witnessKey), CheckpointKeyId, StringComparison.Ordinal))
            {
                throw new ArgumentException("The audit witness key must be an ECDSA P-256 key other than the checkpoint key.", nameof(options));
            }

            WitnessKeyId = KeyIds.Compute(_witnessKey);
        }
        else
        {
            Log.WitnessNotConfigured(logger, WriterId);
        }
        _lastCheckpointAttempt = _time.GetTimestamp();
        _queue = Channel.CreateBounded<PendingRecord>(new BoundedChannelOptions(options.QueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
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

    /// <summary>A new instance holding the public half of the checkpoint signing key (the caller disposes it).</summary>
    public ECDsa CheckpointPublicKey() => ECDsa.Create(_checkpointKey.ExportParameters(false));

    /// <summary>Key id of the witness key; null when no witness is configured.</summary>
    public string? WitnessKeyId { get; }

    /// <summary>Tree size of the latest head stored in the witness by this instance (0 when none yet).</summary>
    public long WitnessedTreeSize => Interlocked.Read(ref _witnessedSeq);

    /// <summary>Append-block calls made so far (group commit makes this smaller than <see cref="RecordsCommitted"/>).</summary>
    public long AppendCalls => Interlocked.Read(ref _appendCalls);

    /// <summary>Records durably committed so far by this instance.</summary>
    public long RecordsCommitted => Interlocked.Read(ref _recordsCommitted);

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The event cannot be stored as a record (see <see cref="Prepare"/>); only this
    /// caller fails, nothing is queued.</exception>
    public async ValueTask AppendAsync(AuditEvent auditEvent, CancellationToken cancellationToken) =>
        await EnqueueAndWaitAsync(auditEvent, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// <see cref="AppendAsync"/>, and says where the record went: its writer, seq and Merkle leaf hash, what a receipt
    /// names so that its inclusion can be proved once a tree head covers it (<see cref="AuditProofs"/>).
    /// </summary>
    /// <exception cref="ArgumentException">As <see cref="AppendAsync"/>.</exception>
    public async ValueTask<AuditLeaf> AppendForReceiptAsync(AuditEvent auditEvent, CancellationToken cancellationToken)
    {
        var pending = await EnqueueAndWaitAsync(auditEvent, cancellationToken).ConfigureAwait(false);
        return pending.Leaf!;
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">As <see cref="AppendAsync"/>.</exception>
    public async ValueTask<AuditReceipt> AppendWithReceiptAsync(AuditEvent auditEvent, CancellationToken cancellationToken)
    {
        var pending = await EnqueueAndWaitAsync(auditEvent, cancellationToken).ConfigureAwait(false);
        return AuditReceipt.Sign(pending.Record, pending.Leaf!, _checkpointKey, CheckpointKeyId);
    }

    /// <inheritdoc />
    public AuditReceipt SignReceipt(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var leaf = new AuditLeaf(record.WriterId, record.Seq, Convert.ToHexStringLower(MerkleHash.Leaf(record.CanonicalBytes())));
        return AuditReceipt.Sign(record, leaf, _checkpointKey, CheckpointKeyId);
    }

    private async ValueTask<PendingRecord> EnqueueAndWaitAsync(AuditEvent auditEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(auditEvent);
        var pending = new PendingRecord(Prepare(auditEvent));
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfBroken();
        try
        {
            await _queue.Writer.WriteAsync(pending, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException ex)
        {
            // Disposed, or the commit loop stopped: fail at once rather than wait for a loop that is gone.
            throw new AuditUnavailableException(ex.InnerException?.Message ?? "The audit log is shutting down.", ex);
        }

        using var registration = cancellationToken.CanBeCanceled
            ? cancellationToken.Register(static state => ((PendingRecord)state!).Cancel(), pending)
            : default;
        await pending.Completion.Task.ConfigureAwait(false);
        return pending;
    }

    /// <summary>
    /// Starts the group-commit loop (once; later calls do nothing). Records appended before it starts wait in the queue.
    /// The host starts it with the app (a hosted service); code that builds a sink itself calls it.
    /// </summary>
    public void Start()
    {
        lock (_startLock)
        {
            if (_loop is null && Volatile.Read(ref _disposed) == 0)
            {
                _loop = Task.Run(RunAsync);
            }
        }
    }

    /// <summary>Drains on host stop: the same as <see cref="DisposeAsync"/>, and it ends as soon as the host gives up waiting.</summary>
    public Task StopAsync(CancellationToken cancellationToken) => DisposeAsync().AsTask().WaitAsync(cancellationToken);

    /// <summary>Commits every queued record, writes a final checkpoint and stops the loop.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _queue.Writer.TryComplete();
        Task? loop;
        lock (_startLock)
        {
            loop = _loop;
        }

        if (loop is null)
        {
            // Never started: whatever was queued was never written; its callers fail closed.
            while (_queue.Reader.TryRead(out var pending))
            {
                pending.Completion.TrySetException(new AuditUnavailableException("The audit log stopped before it started."));
            }
        }
        else
        {
            await loop.ConfigureAwait(false);
        }
        if (_committedSeq > _lastCheckpointSeq || !_witnessQueue.IsEmpty)
        {
            await TryWriteCheckpointAsync().ConfigureAwait(false);
        }

        // The witness gets the last head before the keys go.
        await FlushWitnessAsync().ConfigureAwait(false);

        if (_ownsKey)
        {
            _checkpointKey.Dispose();
        }

        if (_ownsWitnessKey)
        {
            _witnessKey?.Dispose();
        }
    }

    /// <summary>
    /// The event as a record (at seq 1 after the genesis hash; the loop re-chains it), built before it is queued so that
    /// an event the audit format cannot hold fails its own caller only and never the other records of its group. The
    /// record is also read back as the verifier will read it, and must fit one append block.
    /// </summary>
    private AuditRecord Prepare(AuditEvent auditEvent)
    {
        if (auditEvent.RequestId is null || auditEvent.Caller is null || auditEvent.Operation is null)
        {
            throw new ArgumentException("An audit event needs a request id, a caller and an operation.", nameof(auditEvent));
        }

        if (auditEvent.Stages is null || auditEvent.Redactions is null)
        {
            throw new ArgumentException("An audit event needs Stages and Redactions (empty when there are none).", nameof(auditEvent));
        }

        if (auditEvent.Stages.Values.Any(static verdict => verdict is null))
        {
            throw new ArgumentException("A stage verdict cannot be null.", nameof(auditEvent));
        }

        // Unhashed: the commit loop hashes the record once its seq and prev are known (InChain). Here it is written once
        // with a stand-in hash and read back: what a reader would parse must be canonically the same text.
        AuditRecord record;
        string canonical;
        try
        {
            record = AuditRecord.Unhashed(auditEvent, WriterId, 1, AuditRecord.GenesisHash);
            canonical = record.CanonicalText();
        }
        catch (Exception ex) when (ex is not ArgumentException)
        {
            throw new ArgumentException("The audit event cannot be put in canonical form.", nameof(auditEvent), ex);
        }

        var line = AuditRecord.LineOf(canonical, AuditRecord.GenesisHash);
        if (line.Length > MaxRecordBytes)
        {
            throw new ArgumentException($"The audit record is {line.Length} bytes; at most {MaxRecordBytes} fit one append.", nameof(auditEvent));
        }

        if (!AuditRecord.TryParse(line.AsSpan(0, line.Length - 1), out var read, out var error)
            || !string.Equals(read!.CanonicalText(), canonical, StringComparison.Ordinal))
        {
            throw new ArgumentException($"The audit event would not read back as written ({error ?? "its canonical form differs"}).", nameof(auditEvent));
        }

        return record;
    }

    /// <summary>The largest record line: one append block (4 MiB) less room for the longest seq.</summary>
    private const int MaxRecordBytes = (4 * 1024 * 1024) - 64;

    /// <summary>A record waiting for its group to commit.</summary>
    private sealed class PendingRecord(AuditRecord record)
    {
        /// <summary>The record as prepared at append time; the loop gives it its seq and prev.</summary>
        public AuditRecord Record { get; } = record;

        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Where the record was committed; set before <see cref="Completion"/> succeeds.</summary>
        public AuditLeaf? Leaf { get; set; }

        /// <summary>The caller gave up; if the record is not yet in a group it is not written.</summary>
        public void Cancel() => Completion.TrySetCanceled();
    }
}
