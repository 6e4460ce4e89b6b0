using System.Buffers;
using System.Text.Json.Serialization;
using ServerlessServe.Core.Defenses;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Serving;

/// <summary>
/// An inference request on its way through the stages: read → validate → infer → redact → encode, then audit. Each
/// property is set by the stage named in its summary; every value but the incoming body is plain data.
/// </summary>
public class InferenceContext(string requestId, string modelName, string? requestedVersion, string operation)
    : ModelRequestContext(requestId, modelName, requestedVersion)
{
    /// <summary>The <see cref="Operation"/> of a job's item.</summary>
    public const string JobOperation = "job";

    /// <summary>What the audit record calls this request, e.g. <c>infer</c>, or <see cref="JobOperation"/>.</summary>
    public string Operation { get; } = operation;

    /// <summary>The body to read (in-process only).</summary>
    [JsonIgnore]
    public IncomingBody? Body { get; set; }

    private ReceivedBody? _received;

    /// <summary>Set by read: the body's bytes as received, for the signature stage's digest (in-process only; cleared by it).</summary>
    [JsonIgnore]
    public ReadOnlySequence<byte> BodyBytes { get; private set; }

    /// <summary>
    /// Read keeps the body in the pooled buffers it was read into until <see cref="ReleaseBody"/> hands them back with
    /// the body's bytes wiped (<see cref="ReceivedBody.Dispose"/>).
    /// </summary>
    public void HoldBody(ReceivedBody body)
    {
        ArgumentNullException.ThrowIfNull(body);
        ReleaseBody();
        _received = body;
        BodyBytes = body.Content;
    }

    /// <summary>
    /// Clears <see cref="BodyBytes"/> and returns the buffers read held it in to the pool, wiped (once; later calls do
    /// nothing). Called when nothing reads the body any more: by the signature stage after its digest, and by each host
    /// once the request's stages have run. A body never released is only collected, as any array.
    /// </summary>
    public void ReleaseBody()
    {
        BodyBytes = default;
        Interlocked.Exchange(ref _received, null)?.Dispose();
    }

    private TensorLease? _tensors;

    /// <summary>Read holds <paramref name="lease"/>, the lease of the request's pooled tensor arrays (null: none), until <see cref="ReleaseTensors"/>.</summary>
    public void HoldTensors(TensorLease? lease)
    {
        ReleaseTensors();
        _tensors = lease;
    }

    /// <summary>
    /// Lets go of the context's hold on its tensors' lease (once; later calls do nothing). Called by each host once the
    /// request's stages, its audit included, have run: nothing of the request reads its input tensors after that, and a
    /// reader that may (the body still being forwarded) holds the lease itself. The arrays go back to the pool when the
    /// last holder lets go. A lease never released is only collected, as any array.
    /// </summary>
    public void ReleaseTensors() => Interlocked.Exchange(ref _tensors, null)?.Release();

    /// <summary>Set by read: the parsed V2 request.</summary>
    public InferenceRequest? Request { get; set; }

    /// <summary>Set by audit: SHA-256 of the input tensors (canonical encoding).</summary>
    public string? InputSha256 { get; set; }

    /// <summary>Set by infer: the model's outputs before redaction.</summary>
    public InferenceResponse? Inferred { get; set; }

    /// <summary>Set by redact: what may leave, and what was redacted or hardened (by kind).</summary>
    public InferenceResponse? Released { get; set; }

    /// <summary>Set by the defense stages (screen, squeeze): each one's finding, flagged or not.</summary>
    public List<DefenseFinding> Defenses { get; set; } = [];

    /// <summary>Set by redact.</summary>
    public IReadOnlyDictionary<string, int> Redactions { get; set; } = new Dictionary<string, int>();

    /// <summary>Set by audit: SHA-256 of the released output tensors.</summary>
    public string? OutputSha256 { get; set; }

    /// <summary>Set by encode: the response body in the form the request asked for.</summary>
    public EncodedBody? Encoded { get; set; }

    /// <summary>The <c>x-audit-receipt</c> request header as sent, or null (in-process only; read checks it).</summary>
    [JsonIgnore]
    public string? ReceiptHeader { get; set; }

    /// <summary>Set by read: the caller asked for a signed receipt of the audit record (<see cref="Audit.AuditReceipt"/>).</summary>
    [JsonIgnore]
    public bool ReceiptRequested { get; set; }

    /// <summary>Set by audit, when a receipt was asked for and the record committed: the receipt to return.</summary>
    [JsonIgnore]
    public Audit.AuditReceipt? Receipt { get; set; }

    /// <summary>When the request arrived (<see cref="TimeProvider.GetTimestamp"/>), for the audit record's latency.</summary>
    [JsonIgnore]
    public long StartedTimestamp { get; set; }
}
