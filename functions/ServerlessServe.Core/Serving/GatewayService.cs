using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Identity;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Redaction;
using ServerlessServe.Core.Validation;

namespace ServerlessServe.Core.Serving;

/// <summary>
/// The gateway's V2 endpoints. Model routes need a caller token; each authenticated inference runs
/// validate → infer → redact → audit, and its response is released only after its audit record is committed.
/// </summary>
public sealed partial class GatewayService
{
    private readonly IModelCatalog _catalog;
    private readonly CallerAuthenticator _callers;
    private readonly InferenceClient _inference;
    private readonly IAuditSink _audit;
    private readonly CallerPseudonymizer _pseudonymizer;
    private readonly ResponseRedactor _redactor;
    private readonly ProtocolLimits _limits;
    private readonly TimeProvider _time;
    private readonly ILogger<GatewayService> _logger;

    public GatewayService(
        IModelCatalog catalog,
        CallerAuthenticator callers,
        InferenceClient inference,
        IAuditSink audit,
        CallerPseudonymizer pseudonymizer,
        ResponseRedactor redactor,
        ProtocolLimits limits,
        TimeProvider time,
        ILogger<GatewayService> logger)
    {
        _catalog = catalog;
        _callers = callers;
        _inference = inference;
        _audit = audit;
        _pseudonymizer = pseudonymizer;
        _redactor = redactor;
        _limits = limits;
        _time = time;
        _logger = logger;
    }

    public static IActionResult Live() => HealthResults.Live();

    public async Task<IActionResult> ReadyAsync(CancellationToken cancellationToken) =>
        HealthResults.Ready(await _inference.IsReadyAsync(cancellationToken).ConfigureAwait(false));

    public static IActionResult ServerMetadata() => HealthResults.ServerMetadata();

    public async Task<IActionResult> ModelMetadataAsync(HttpRequest request, string model, string? version)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (await _callers.AuthenticateAsync(request).ConfigureAwait(false) is not { } caller)
        {
            return Results.Unauthorized();
        }

        try
        {
            var resolved = await _catalog.ResolveAsync(model, version, request.HttpContext.RequestAborted).ConfigureAwait(false);
            RoleCheck.Ensure(caller, resolved.Policy);
            return Results.JsonBody(V2Json.WriteModelMetadata(ReleasedMetadata.For(resolved)));
        }
        catch (ProtocolException ex)
        {
            return Results.Error(ex);
        }
    }

    public async Task<IActionResult> ModelReadyAsync(HttpRequest request, string model, string? version)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (await _callers.AuthenticateAsync(request).ConfigureAwait(false) is not { } caller)
        {
            return Results.Unauthorized();
        }

        try
        {
            var resolved = await _catalog.ResolveAsync(model, version, request.HttpContext.RequestAborted).ConfigureAwait(false);
            RoleCheck.Ensure(caller, resolved.Policy);
            return HealthResults.Ready(true);
        }
        catch (ProtocolException ex)
        {
            return Results.Error(ex);
        }
    }

    public async Task<IActionResult> InferAsync(HttpRequest request, string model, string? version)
    {
        ArgumentNullException.ThrowIfNull(request);
        var started = _time.GetTimestamp();
        var cancellationToken = request.HttpContext.RequestAborted;
        var caller = await _callers.AuthenticateAsync(request).ConfigureAwait(false);
        if (caller is null)
        {
            return Results.Unauthorized();
        }

        var requestId = RequestIds.New();
        using var activity = ServingTelemetry.StartInfer("gateway.infer");
        var stages = new Dictionary<string, string>(StringComparer.Ordinal);
        var stage = "resolve";
        VerifiedModelVersion? resolved = null;
        string? inputSha = null;
        string? outputSha = null;
        IReadOnlyDictionary<string, int> redactions = new Dictionary<string, int>();
        BodyResult result;
        try
        {
            resolved = await _catalog.ResolveAsync(model, version, cancellationToken).ConfigureAwait(false);
            stages[stage] = "pass";

            stage = "authorize";
            RoleCheck.Ensure(caller, resolved.Policy);
            stages[stage] = "pass";

            stage = "validate";
            var body = await HttpBodyReader.ReadLimitedAsync(request.Body, request.ContentLength, _limits.MaxBodyBytes, cancellationToken).ConfigureAwait(false);
            var inferenceRequest = V2Json.ReadRequest(body, InferenceHeaders.HeaderLength(request), _limits);
            inputSha = TensorDigest.Compute(inferenceRequest.Inputs);
            RequestValidator.Validate(inferenceRequest, resolved.Manifest.Inputs, resolved.Manifest.Outputs, resolved.Policy);
            stages[stage] = "pass";

            stage = "infer";
            var inferred = await _inference.InferAsync(resolved, inferenceRequest, requestId, cancellationToken).ConfigureAwait(false);
            stages[stage] = "pass";

            stage = "redact";
            var redacted = _redactor.Apply(inferred.Outputs, resolved.Policy);
            redactions = redacted.Counts;
            stages[stage] = "pass";

            var released = new InferenceResponse
            {
                ModelName = resolved.Manifest.Name,
                ModelVersion = resolved.Manifest.Version,
                Id = inferenceRequest.Id,
                Outputs = redacted.Outputs,
            };
            outputSha = TensorDigest.Compute(released.Outputs);
            var encoded = V2Json.WriteResponse(released, inferenceRequest);
            result = new BodyResult(200, encoded.Body, encoded.ContentType, encoded.HeaderLength);
        }
        catch (ProtocolException ex)
        {
            stages[stage] = "refused:" + ex.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture);
            RequestRefused(_logger, requestId, stage, ex.StatusCode);
            result = Results.Error(ex);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The caller went away; what reached the model is still recorded (499: client closed the request).
            stages[stage] = "cancelled";
            result = Results.Error(499, "request cancelled");
        }
#pragma warning disable CA1031 // Any other failure is answered (500, nothing echoed) and audited like a refusal.
        catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
        {
            stages[stage] = "error";
            StageFailed(_logger, ex, requestId, stage);
            result = Results.Error(500, "internal error");
        }

        var auditEvent = new AuditEvent
        {
            Time = _time.GetUtcNow(),
            RequestId = requestId,
            Caller = _pseudonymizer.Pseudonymize(caller.Subject),
            Operation = "infer",
            Model = resolved?.Manifest.Name,
            ModelVersion = resolved?.Manifest.Version,
            ManifestDigest = resolved?.ManifestDigest,
            InputSha256 = inputSha,
            OutputSha256 = result.StatusCode == 200 ? outputSha : null,
            Stages = stages,
            Redactions = redactions,
            Status = result.StatusCode,
            LatencyMs = _time.GetElapsedTime(started).TotalMilliseconds,
        };
        try
        {
            await _audit.AppendAsync(auditEvent, CancellationToken.None).ConfigureAwait(false);
        }
        catch (AuditUnavailableException)
        {
            AuditWithheld(_logger, requestId);
            ServingTelemetry.Record(activity, resolved?.Manifest.Name, resolved?.Manifest.Version, "audit", 503, auditEvent.LatencyMs, redactions);
            var withheld = Results.Error(503, "audit log unavailable; response withheld");
            withheld.Headers[RequestIds.Header] = requestId;
            return withheld;
        }

        ServingTelemetry.Record(activity, resolved?.Manifest.Name, resolved?.Manifest.Version, result.StatusCode == 200 ? "released" : stage, result.StatusCode, auditEvent.LatencyMs, redactions);
        result.Headers[RequestIds.Header] = requestId;
        return result;
    }

    [LoggerMessage(EventId = 1300, Level = LogLevel.Information, Message = "Request {RequestId} refused at {Stage} with {Status}")]
    private static partial void RequestRefused(ILogger logger, string requestId, string stage, int status);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Error, Message = "Request {RequestId} failed at {Stage}")]
    private static partial void StageFailed(ILogger logger, Exception exception, string requestId, string stage);

    [LoggerMessage(EventId = 1301, Level = LogLevel.Error, Message = "Request {RequestId}: audit record not committed; response withheld")]
    private static partial void AuditWithheld(ILogger logger, string requestId);
}
