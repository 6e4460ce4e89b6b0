using ServerlessServe.Core.Defenses;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Hosting.Http;

/// <summary>Factory for the platform's HTTP results. Error bodies are always <c>{"error": "..."}</c> with a safe message, padded to <see cref="ErrorBodyBytes"/>.</summary>
public static class V2Results
{
    public const string Json = "application/json";

    /// <summary>
    /// Every error body is padded with trailing spaces to a multiple of this many bytes: the safe messages are all
    /// shorter, so every refusal has the same length whatever its status and reason, and the length tells nothing the
    /// status does not (docs/defenses.md, padded responses).
    /// </summary>
    public const int ErrorBodyBytes = 512;

    /// <summary>
    /// Set to <see cref="VersionScope"/> on a refusal that concerns only the model version asked for
    /// (<see cref="Refusal.VersionScoped"/>): the service is healthy and a retry soon will not help. The gateway reads it
    /// on the inference app's 503s (<see cref="InferenceResilience"/>).
    /// </summary>
    public const string RefusalScopeHeader = "x-serverlessserve-refusal-scope";

    /// <summary>The value of <see cref="RefusalScopeHeader"/> for a version-scoped refusal.</summary>
    public const string VersionScope = "version";

    /// <summary>
    /// Set to <c>1</c>, beside <see cref="RefusalScopeHeader"/>, on the inference app's refusal of a version it cannot
    /// load (<see cref="Core.Artifacts.ModelCatalog.VersionUnservable"/>): the gateway marks the version failed.
    /// </summary>
    public const string UnservableHeader = "x-serverlessserve-version-unservable";

    /// <summary>
    /// Set to <c>1</c>, beside <see cref="RefusalScopeHeader"/>, on the inference app's refusal of a request while it holds
    /// as many request bodies as it may (a refusal whose <see cref="Refusal.Reason"/> is <see cref="BusyReason"/>): the
    /// gateway neither retries it nor counts it toward its breaker (it is version-scoped on the wire), but passes it on as
    /// the service busy, which a job's item is tried again after (not as the version unavailable, which it is not).
    /// </summary>
    public const string BusyHeader = "x-serverlessserve-busy";

    /// <summary>The <see cref="Refusal.Reason"/> that sets <see cref="BusyHeader"/>.</summary>
    public const string BusyReason = "busy";

    public static BodyResult Error(int status, string safeMessage)
    {
        var result = new BodyResult(status, ResponsePadding.PadError(V2Json.WriteError(safeMessage), ErrorBodyBytes), Json);
        if (status == 401)
        {
            result.Headers["WWW-Authenticate"] = "Bearer";
        }

        return result;
    }

    /// <summary>The answer to a refusal: its status from <see cref="RefusalMapping"/>, its safe message as the error body.</summary>
    public static BodyResult Refused(Refusal refusal)
    {
        ArgumentNullException.ThrowIfNull(refusal);
        var result = Error(RefusalMapping.StatusCode(refusal.Kind), refusal.Message);
        if (refusal.RetryAfter is { } retryAfter)
        {
            // Whole seconds, at least 1 (RFC 9110 delay-seconds).
            result.Headers["Retry-After"] = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (refusal.VersionScoped)
        {
            result.Headers[RefusalScopeHeader] = VersionScope;
            if (refusal.Reason == Core.Artifacts.ModelCatalog.UnservableReason)
            {
                result.Headers[UnservableHeader] = "1";
            }
            else if (refusal.Reason == BusyReason)
            {
                result.Headers[BusyHeader] = "1";
            }
        }

        if (refusal.Kind == RefusalKind.TimedOut)
        {
            // The rest of a stalled body may still be on its way: the connection is not reused (RFC 9110, 408).
            result.Headers["Connection"] = "close";
        }

        return result;
    }

    /// <summary>
    /// The one answer a model route gives, with <see cref="EdgeOptions.HideModelExistence"/>, for an unknown model, an
    /// unknown version, and a caller the model's policy does not admit: whoever asks cannot tell a model they may not use
    /// from one that does not exist.
    /// </summary>
    public static Refusal HiddenModel { get; } = Refusal.NotFound("model or version not found");

    /// <summary>The stage whose refusal depends on the model's policy (<c>AuthorizeCaller</c>), answered as <see cref="HiddenModel"/>.</summary>
    public const string AuthorizeStage = "authorize";

    private const string HoneyCallerStage = "honey-caller";

    /// <summary>
    /// The answer to <paramref name="refusal"/> on a model route: as <see cref="Refused"/>, except that with
    /// <paramref name="hideModelExistence"/> a not-found refusal, and a forbidden one from the stage that reads the
    /// model's roles (<paramref name="refusedAt"/> <c>authorize</c>), are answered as <see cref="HiddenModel"/>. Refusals
    /// before the model is resolved (a blocked caller: 403) are the same for every model name and stay as they are. The
    /// refusal itself, as audited and logged, keeps its kind and reason.
    /// </summary>
    public static BodyResult RefusedOnModel(Refusal refusal, string? refusedAt, bool hideModelExistence)
    {
        ArgumentNullException.ThrowIfNull(refusal);
        // A honey caller must get exactly what a caller without the model's role gets, or it could tell it was found out.
        // So must a caller not shown to have access to a model none of whose versions may serve (ResolveModel).
        var hidden = hideModelExistence
            && (refusal.Kind == RefusalKind.NotFound
                || (refusal.Kind == RefusalKind.Forbidden && refusedAt is AuthorizeStage or HoneyCallerStage)
                || (refusal.Kind == RefusalKind.Unavailable && refusal.Reason == Core.Serving.Stages.ResolveModel.AccessUnproven));
        return Refused(hidden ? HiddenModel : refusal);
    }

    public static BodyResult JsonBody(byte[] utf8Json, int status = 200) => new(status, utf8Json, Json);
}
