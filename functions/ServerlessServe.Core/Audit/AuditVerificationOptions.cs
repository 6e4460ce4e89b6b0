using System.Security.Cryptography;
using Azure.Storage.Blobs;

namespace ServerlessServe.Core.Audit;

/// <summary>What <see cref="AuditVerifier"/> trusts and how strict it is.</summary>
public sealed class AuditVerificationOptions
{
    /// <summary>Public keys whose signatures on checkpoints and tree heads are accepted.</summary>
    public required IReadOnlyCollection<ECDsa> TrustedCheckpointKeys { get; init; }

    /// <summary>The witness container to compare every writer's latest head with; null: no witness check (weaker).</summary>
    public BlobContainerClient? Witness { get; init; }

    /// <summary>Public keys whose countersignatures on witness heads are accepted (needed with <see cref="Witness"/>).</summary>
    public IReadOnlyCollection<ECDsa> TrustedWitnessKeys { get; init; } = [];

    /// <summary>
    /// Most records allowed after a chain's latest head before it is <see cref="AuditFailureKind.UnanchoredTail"/>.
    /// Default 356: the writer's defaults (a head every 100 records, checked after groups of up to 256) allow 355.
    /// </summary>
    public long MaxUnanchoredRecords { get; init; } = 356;

    /// <summary>
    /// How long a writer's latest head may stay out of the witness before that is <see cref="AuditFailureKind.Unwitnessed"/>.
    /// Default 5 minutes (the writer retries every CheckpointInterval, 10 s by default).
    /// </summary>
    public TimeSpan WitnessLag { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The clock that <see cref="WitnessLag"/> is measured on. Default the system clock.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>
    /// Largest chain segment read (the most <see cref="AuditOptions.SegmentMaxBytes"/> allows, 256 MiB): a larger one is
    /// reported <see cref="AuditFailureKind.Malformed"/> without being downloaded, so a planted blob (a gigabyte of
    /// newlines, which write access and the retention policy allow and forbid deleting for a year) cannot make the
    /// verifier run out of memory and throw instead of reporting.
    /// </summary>
    public long MaxSegmentBytes { get; init; } = AuditOptions.MaxSegmentBytesAllowed;

    /// <summary>Largest checkpoint, tree head or witness head read: 1 MiB (they are a few hundred bytes).</summary>
    public const long MaxHeadBytes = 1024 * 1024;
}
