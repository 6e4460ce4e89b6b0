using System.Globalization;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Serving.Stages;

/// <summary>
/// <c>read</c>: the body under the size cap, in a media type this endpoint reads, parsed strictly as a V2 request (JSON,
/// or JSON plus the binary tensor extension). With a <see cref="TensorArrayPool"/>, large numeric tensors are decoded
/// into pooled arrays, under a lease the context holds until the host releases it (<see cref="InferenceContext.ReleaseTensors"/>).
/// </summary>
/// <remarks>
/// Accepted: <c>application/json</c> (charset, if given, UTF-8), <c>application/octet-stream</c> (the binary
/// extension), or no <c>Content-Type</c> at all (V2 clients such as Triton's send none). Anything else is
/// <see cref="RefusalKind.UnsupportedMediaType"/>, and so is any <c>Content-Encoding</c> other than <c>identity</c>.
/// <para>
/// With <see cref="BodyReading.StreamBinaryTensors"/>, a body in the binary extension is not held at all: each tensor is
/// read from the connection straight into its own array (<see cref="V2Json.ReadRequestAsync"/>), and
/// <see cref="InferenceContext.BodyBytes"/> stays empty. Only for a host whose every caller was authenticated before
/// read and that has no signature stage: the inference app.
/// </para>
/// </remarks>
public sealed class ReadRequest(ProtocolLimits limits, TensorArrayPool? pool = null, BodyReading reading = BodyReading.Buffered) : IRequestStage<InferenceContext>, IUnbudgetedStage
{
    public string Name => "read";

    public async ValueTask<StageOutcome> RunAsync(InferenceContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var body = context.Body ?? throw new InvalidOperationException("read needs the incoming body");
        // The receipt asked for is read first, so that a body of another media type (415) gets its receipt too, as on
        // the orchestrated path (it had none before 2026-12-08; review); the media type is still refused before an
        // invalid receipt header, as there.
        var receiptValid = Audit.AuditReceipt.TryParseRequest(context.ReceiptHeader, out var receipt);
        context.ReceiptRequested = receiptValid && receipt;
        if (MediaTypeRefusal(body) is { } unsupported)
        {
            return unsupported;
        }

        if (!receiptValid)
        {
            return Refusal.Invalid("x-audit-receipt must be ?1 or ?0");
        }

        int? headerLength = null;
        if (body.InferenceHeaderLength is { Length: > 0 } raw)
        {
            if (!int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                return Refusal.Invalid("invalid Inference-Header-Content-Length");
            }

            headerLength = parsed;
        }

        // The context holds the lease from now on: large tensors, JSON or binary, are decoded into its pooled arrays.
        var lease = pool is { MaxRetainedBytes: > 0 } ? pool.Lease() : null;
        context.HoldTensors(lease);
        try
        {
            if (reading == BodyReading.StreamBinaryTensors && headerLength is { } streamedHeader)
            {
                // Each tensor read from the connection into its own array; no body is kept.
                context.Request = await V2Json.ReadRequestAsync(body.Content, body.ContentLength, streamedHeader, limits, lease, cancellationToken).ConfigureAwait(false);
            }
            else if (headerLength is { } binaryHeader)
            {
                // The body stays in the pooled buffers it arrived in, never put together, held by the context for the
                // signature stage's digest until released; each tensor is copied from them into its own array.
                var received = await HttpBodyReader.ReadSegmentsAsync(body.Content, body.ContentLength, limits.MaxBodyBytes, cancellationToken).ConfigureAwait(false);
                context.HoldBody(received);
                context.Request = V2Json.ReadRequest(received.Content, binaryHeader, limits, lease);
            }
            else
            {
                // JSON is parsed from one span: the body is put together in one pooled buffer, held as above.
                var (buffer, length) = await HttpBodyReader.ReadPooledAsync(body.Content, body.ContentLength, limits.MaxBodyBytes, cancellationToken).ConfigureAwait(false);
                context.HoldBody(ReceivedBody.Pooled(buffer, length));
                context.Request = V2Json.ReadRequest(buffer.AsSpan(0, length), null, limits, lease);
            }
        }
        catch (RefusedException)
        {
            context.ReleaseBody();
            context.ReleaseTensors();
            throw;
        }

        return StageOutcome.Pass;
    }

    /// <summary>The refusal for a body this endpoint does not read, or null.</summary>
    public static Refusal? MediaTypeRefusal(IncomingBody body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (body.ContentEncoding is { Length: > 0 } encoding && !encoding.Trim().Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            return Refusal.UnsupportedMediaType("compressed request bodies are not accepted");
        }

        if (string.IsNullOrWhiteSpace(body.ContentType))
        {
            return null;
        }

        var parts = body.ContentType.Split(';');
        var mediaType = parts[0].Trim();
        if (mediaType.Equals(EncodedBody.BinaryContentType, StringComparison.OrdinalIgnoreCase))
        {
            return parts.Length == 1 ? null : Refusal.UnsupportedMediaType("unsupported Content-Type parameters");
        }

        if (!mediaType.Equals(EncodedBody.JsonContentType, StringComparison.OrdinalIgnoreCase))
        {
            return Refusal.UnsupportedMediaType("Content-Type must be application/json or application/octet-stream");
        }

        foreach (var parameter in parts.Skip(1))
        {
            var pair = parameter.Split('=', 2);
            var name = pair[0].Trim();
            var value = pair.Length == 2 ? pair[1].Trim().Trim('"') : string.Empty;
            if (!name.Equals("charset", StringComparison.OrdinalIgnoreCase)
                || !(value.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || value.Equals("utf8", StringComparison.OrdinalIgnoreCase)))
            {
                return Refusal.UnsupportedMediaType("application/json must be UTF-8");
            }
        }

        return null;
    }
}

/// <summary>How <see cref="ReadRequest"/> takes in a body.</summary>
public enum BodyReading
{
    /// <summary>
    /// The whole body read first, into pooled buffers that grow with what has arrived, then parsed; the context holds
    /// it for the signature stage's digest (the gateway). A body in the binary extension stays in the buffers it arrived
    /// in (each tensor copied from them into its own array); a JSON body is put together in one.
    /// </summary>
    Buffered,

    /// <summary>
    /// A body in the binary extension read straight into its tensors' arrays, sized as its header declares, and not
    /// kept; any other body as <see cref="Buffered"/>. For a host whose callers are authenticated before read (the
    /// inference app).
    /// </summary>
    StreamBinaryTensors,
}
