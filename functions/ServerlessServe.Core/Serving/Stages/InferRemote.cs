using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Serving.Stages;

/// <summary>
/// <c>infer</c> on the gateway: the validated request goes to the inference backend for exactly the verified version.
/// Outputs asked for by a released name (such as <c>probabilities_classes</c>) are asked of the model by the name of
/// the output they come from. The output the extraction detector reads is always asked for (redact releases only what
/// the caller asked for), so a caller cannot keep its queries from being observed by asking for other outputs.
/// The digest of a large input (an image) for the audit record is computed while the inference app runs, instead of
/// after it on the request's path; small inputs are left to audit.
/// </summary>
public sealed class InferRemote(IInferenceBackend backend) : IRequestStage<InferenceContext>
{
    public string Name => "infer";

    public async ValueTask<StageOutcome> RunAsync(InferenceContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request ?? throw new InvalidOperationException("infer runs after read");
        var model = context.Model ?? throw new InvalidOperationException("infer runs after resolve");
        var forwarded = request.Outputs is null ? request : new InferenceRequest
        {
            Id = request.Id,
            Parameters = request.Parameters,
            Inputs = request.Inputs,
            Outputs = request.Outputs
                .Select(o => ReleasedMetadata.SourceOutput(model, o.Name))
                .Concat(model.Policy.Defenses?.Extraction is { } extraction ? [extraction.Output] : [])
                .Distinct(StringComparer.Ordinal)
                .Select(name => new RequestedOutput(name))
                .ToList(),
        };
        var digest = context.InputSha256 is null && InputBytes(request) >= DigestAheadBytes
            ? Task.Run(() => TensorDigest.Compute(request.Inputs), CancellationToken.None)
            : null;
        try
        {
            context.Inferred = await backend.InferAsync(model, forwarded, context.RequestId, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Awaited whatever the call did: the digest reads the request's tensors, which must not outlive the stage.
            if (digest is not null)
            {
                context.InputSha256 = await digest.ConfigureAwait(false);
            }
        }

        return StageOutcome.Pass;
    }

    /// <summary>Inputs of at least this many bytes have their digest computed during the call (the pool's smallest array).</summary>
    public const int DigestAheadBytes = TensorArrayPool.MinPooledBytes;

    private static long InputBytes(InferenceRequest request)
    {
        long bytes = 0;
        foreach (var input in request.Inputs)
        {
            bytes += input.DataType == TensorDataType.Bytes ? input.ElementCount : (long)input.ElementCount * input.DataType.ElementSize();
        }

        return bytes;
    }
}
