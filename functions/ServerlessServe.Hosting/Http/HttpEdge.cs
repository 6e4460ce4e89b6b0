using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Serving;
using ServerlessServe.Core.Signatures;

namespace ServerlessServe.Hosting.Http;

/// <summary>
/// Where HTTP meets the pipeline, for both apps: a request becomes a context (the <c>Authorization</c> header, the body
/// with its headers, a server-made request id), and a context's outcome becomes the response — the released body, or
/// the refusal through <see cref="RefusalMapping"/> as a V2 error body. Nothing else in the code base knows a status code.
/// </summary>
public static class HttpEdge
{
    /// <summary>A new context for an infer request on <paramref name="request"/>.</summary>
    public static InferenceContext InferenceContext(HttpRequest request, string model, string? version, string operation, TimeProvider time, string? requestId = null)
    {
        var context = Prepare(new InferenceContext(requestId ?? RequestIds.New(), model, version, operation), request, time);
        context.ReceiptHeader = request.Headers.TryGetValue(Core.Audit.AuditReceipt.HeaderName, out var receipt) ? receipt.ToString() : null;
        return context;
    }

    /// <summary>Hands <paramref name="request"/>'s credential and body to <paramref name="context"/> and starts its clock.</summary>
    public static TContext Prepare<TContext>(TContext context, HttpRequest request, TimeProvider time)
        where TContext : InferenceContext
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(time);
        context.Authorization = request.Headers.Authorization.ToString();
        context.Signed = Signed(request);
        context.Body = new IncomingBody(
            Body(request),
            request.ContentLength,
            request.Headers.ContentType.ToString() is { Length: > 0 } contentType ? contentType : null,
            request.Headers.ContentEncoding.ToString() is { Length: > 0 } encoding ? encoding : null,
            request.Headers[EncodedBody.HeaderLengthHeaderName].ToString() is { Length: > 0 } length ? length : null);
        context.StartedTimestamp = time.GetTimestamp();
        return context;
    }

    /// <summary>
    /// <paramref name="request"/>'s body as every endpoint reads it: each read waits at most
    /// <see cref="EdgeOptions.BodyReadIdleTimeout"/> for bytes, the whole body at most <see cref="EdgeOptions.BodyReadTimeout"/>,
    /// and a stalled, slow, short, malformed or aborted body surfaces as
    /// a <see cref="RefusedException"/> (408 or 400) or a cancellation, never as an unexpected exception.
    /// </summary>
    public static Stream Body(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var services = request.HttpContext.RequestServices;
        var options = services?.GetService<IOptions<EdgeOptions>>()?.Value ?? new EdgeOptions();
        var logger = services?.GetService<ILoggerFactory>()?.CreateLogger(typeof(HttpEdge).FullName!) ?? NullLogger.Instance;
        return new EdgeBodyStream(request.BodyReader, options.BodyReadIdleTimeout, options.BodyReadTimeout, request.HttpContext.RequestAborted, logger);
    }

    /// <summary>
    /// Lets <paramref name="request"/>'s body be up to <paramref name="maxBytes"/> as far as the server goes, before
    /// anything reads it: the standalone host's Kestrel caps every body at the protocol's limit, the Functions worker's
    /// at 30 MB; a route that takes more (an admin package, a job) raises it for its own requests. A no-op once the body
    /// is being read or where the server does not allow it.
    /// </summary>
    public static void AllowBody(HttpRequest request, long maxBytes)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size
            && size.MaxRequestBodySize is { } current && current < maxBytes)
        {
            size.MaxRequestBodySize = maxBytes;
        }
    }

    /// <summary>
    /// A new context for a metadata or readiness request on <paramref name="request"/>, or for a request whose refusal
    /// is audited under <paramref name="requestId"/> (a new one when null).
    /// </summary>
    public static ModelRequestContext ModelContext(HttpRequest request, string model, string? version, string? requestId = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new ModelRequestContext(requestId ?? RequestIds.New(), model, version) { Authorization = request.Headers.Authorization.ToString(), Signed = Signed(request) };
    }

    /// <summary>
    /// What a signature over <paramref name="request"/> covers, when it carries <c>Signature-Input</c> or <c>Signature</c>;
    /// otherwise null. The target is the request target as sent (path and query, encoding kept).
    /// </summary>
    public static SignedRequest? Signed(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var headers = request.Headers;
        if (!headers.ContainsKey(SignatureHeaders.SignatureInputHeader) && !headers.ContainsKey(SignatureHeaders.SignatureHeader))
        {
            return null;
        }

        var raw = request.HttpContext.Features.Get<IHttpRequestFeature>()?.RawTarget;
        var target = raw is { Length: > 0 } && raw[0] == '/'
            ? raw
            : (request.PathBase + request.Path).ToUriComponent() + request.QueryString.ToUriComponent();
        return new SignedRequest(
            request.Method,
            request.Scheme,
            request.Host.Value ?? string.Empty,
            target,
            Field(headers, SignatureHeaders.SignatureInputHeader),
            Field(headers, SignatureHeaders.SignatureHeader),
            Field(headers, ContentDigest.HeaderName),
            Field(headers, "Authorization"));
    }

    private static string? Field(IHeaderDictionary headers, string name) =>
        headers.TryGetValue(name, out var values) ? SignatureBase.FieldValue(values.Select(v => v ?? string.Empty).ToList()) : null;

    /// <summary>
    /// The answer for a finished inference context: its encoded body, or its refusal (a refusal of access answered as an
    /// unknown model when <paramref name="hideModelExistence"/>, see <see cref="V2Results.RefusedOnModel"/>).
    /// </summary>
    public static IActionResult Respond(InferenceContext context, bool hideModelExistence = false)
    {
        ArgumentNullException.ThrowIfNull(context);
        BodyResult result;
        if (context.Refusal is { } refusal)
        {
            result = V2Results.RefusedOnModel(refusal, context.RefusedAt, hideModelExistence);
        }
        else
        {
            var encoded = context.Encoded ?? throw new InvalidOperationException("An inference pipeline passed without encoding a response.");
            result = new BodyResult(200, encoded.Body, encoded.ContentType, encoded.HeaderLength);
        }

        result.Headers[RequestIds.Header] = context.RequestId;
        if (context.Receipt is { } receipt)
        {
            result.Headers[Core.Audit.AuditReceipt.HeaderName] = receipt.Jws;
        }

        AddDeprecation(result, context);
        return result;
    }

    /// <summary>
    /// The answer for a model context: <paramref name="body"/> when every stage passed, otherwise the refusal (a refusal of
    /// access answered as an unknown model when <paramref name="hideModelExistence"/>).
    /// </summary>
    public static IActionResult Respond<TContext>(TContext context, Func<TContext, BodyResult> body, bool hideModelExistence = false)
        where TContext : ModelRequestContext
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(body);
        var result = context.Refusal is { } refusal ? V2Results.RefusedOnModel(refusal, context.RefusedAt, hideModelExistence) : body(context);

        // The id its log lines name, so a caller can quote it (identity.md; metadata and ready had none before 2026-12-08).
        result.Headers[RequestIds.Header] = context.RequestId;
        AddDeprecation(result, context);
        return result;
    }

    /// <summary>
    /// A named deprecated version's dates: <c>Deprecation</c> as an RFC 9745 structured date (<c>@</c> Unix seconds) and
    /// <c>Sunset</c> as an RFC 8594 HTTP date, after which the version is retired. Only to a caller <c>authorize</c>
    /// admitted: on a refusal before it (a caller without the model's role gets "model not found"), the dates would tell
    /// that the version exists.
    /// </summary>
    public static void AddDeprecation(BodyResult result, ModelRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(result);
        AddDeprecation(result.Headers, context);
    }

    /// <summary>As <see cref="AddDeprecation(BodyResult, ModelRequestContext)"/>, into an answer's extra headers.</summary>
    public static void AddDeprecation(IDictionary<string, string> headers, ModelRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(context);
        if (context.Deprecation is { } deprecation && context.Authorized)
        {
            headers["Deprecation"] = "@" + deprecation.Since.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
            headers["Sunset"] = deprecation.Sunset.UtcDateTime.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
