using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using ServerlessServe.Core.Identity;
using ServerlessServe.Core.Inference;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Validation;

namespace ServerlessServe.Core.Serving;

/// <summary>
/// The inference app's V2 endpoints. Every model route needs the gateway's service token; models come only from
/// signed, digest-verified artifacts; inputs are validated again here (defence in depth) before ONNX Runtime runs.
/// </summary>
public sealed partial class InferenceService
{
    private readonly InferenceModelHost _models;
    private readonly OnnxModelRunner _runner;
    private readonly ServiceAuthenticator _services;
    private readonly ProtocolLimits _limits;
    private readonly ILogger<InferenceService> _logger;

    public InferenceService(InferenceModelHost models, OnnxModelRunner runner, ServiceAuthenticator services, ProtocolLimits limits, ILogger<InferenceService> logger)
    {
        _models = models;
        _runner = runner;
        _services = services;
        _limits = limits;
        _logger = logger;
    }

    public static IActionResult Live() => HealthResults.Live();

    public static IActionResult Ready() => HealthResults.Ready(true);

    public static IActionResult ServerMetadata() => HealthResults.ServerMetadata();

    public async Task<IActionResult> ModelMetadataAsync(HttpRequest request, string model, string? version)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (await _services.AuthenticateAsync(request).ConfigureAwait(false) is null)
        {
            return Results.Unauthorized();
        }

        try
        {
            var loaded = await _models.GetAsync(model, version, request.HttpContext.RequestAborted).ConfigureAwait(false);
            var manifest = loaded.Version.Manifest;
            return Results.JsonBody(V2Json.WriteModelMetadata(new ModelMetadata
            {
                Name = manifest.Name,
                Versions = [manifest.Version],
                Platform = manifest.Platform,
                Inputs = manifest.Inputs,
                Outputs = manifest.Outputs,
            }));
        }
        catch (ProtocolException ex)
        {
            return Results.Error(ex);
        }
    }

    public async Task<IActionResult> ModelReadyAsync(HttpRequest request, string model, string? version)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (await _services.AuthenticateAsync(request).ConfigureAwait(false) is null)
        {
            return Results.Unauthorized();
        }

        try
        {
            await _models.GetAsync(model, version, request.HttpContext.RequestAborted).ConfigureAwait(false);
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
        if (await _services.AuthenticateAsync(request).ConfigureAwait(false) is null)
        {
            return Results.Unauthorized();
        }

        var cancellationToken = request.HttpContext.RequestAborted;
        try
        {
            var loaded = await _models.GetAsync(model, version, cancellationToken).ConfigureAwait(false);
            var body = await HttpBodyReader.ReadLimitedAsync(request.Body, request.ContentLength, _limits.MaxBodyBytes, cancellationToken).ConfigureAwait(false);
            var inferenceRequest = V2Json.ReadRequest(body, InferenceHeaders.HeaderLength(request), _limits);
            var manifest = loaded.Version.Manifest;
            RequestValidator.Validate(inferenceRequest, manifest.Inputs, manifest.Outputs, loaded.Version.Policy);
            var outputNames = inferenceRequest.Outputs?.Select(o => o.Name).ToList();
            var outputs = await _runner.RunAsync(loaded, inferenceRequest.Inputs, outputNames, cancellationToken).ConfigureAwait(false);
            var response = new InferenceResponse
            {
                ModelName = manifest.Name,
                ModelVersion = manifest.Version,
                Id = inferenceRequest.Id,
                Outputs = outputs,
            };
            var encoded = V2Json.WriteResponse(response, inferenceRequest);
            return new BodyResult(200, encoded.Body, encoded.ContentType, encoded.HeaderLength);
        }
        catch (ProtocolException ex)
        {
            InferenceRefused(_logger, ex.StatusCode);
            return Results.Error(ex);
        }
#pragma warning disable CA1031 // Any other failure is answered with a bare 500; details go to the log only.
        catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
        {
            InferenceFailed(_logger, ex);
            return Results.Error(500, "internal error");
        }
    }

    [LoggerMessage(EventId = 1401, Level = LogLevel.Error, Message = "Inference request failed")]
    private static partial void InferenceFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1400, Level = LogLevel.Information, Message = "Inference request refused with {Status}")]
    private static partial void InferenceRefused(ILogger logger, int status);
}
