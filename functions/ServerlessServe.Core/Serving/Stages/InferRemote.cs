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
/// <remarks>
/// A version the inference app cannot load (<see cref="Artifacts.ModelCatalog.VersionUnservable"/>: ONNX Runtime refused
/// a signed model that passed every check, say one with an operator of a domain it lacks) is marked failed in this
/// instance's catalog, so "latest" resolves to the version before it meanwhile; a request that named no version is
/// answered 503 with <c>Retry-After: 1</c>, and its retry is served by that version. Before 2026-12-07 every request for
/// "latest" was 503 "model version unavailable" until the broken version was retired (found in review).
/// </remarks>
public sealed class InferRemote(IInferenceBackend backend, Artifacts.IModelCatalog? catalog = null) : IRequestStage<InferenceContext>
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
        catch (RefusedException ex) when (ex.Refusal.Reason == Artifacts.ModelCatalog.UnservableReason)
        {
            catalog?.MarkUnavailable(model.Manifest.Name, model.Manifest.Version);
            // To the caller, the version unavailable as any other (the reason stays between the apps).
            return context.RequestedVersion is null
                ? Refusal.Unavailable("model version unavailable") with { RetryAfter = TimeSpan.FromSeconds(1) }
                : Artifacts.ModelCatalog.VersionUnavailable;
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
