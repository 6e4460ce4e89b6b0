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

        return result;
    }

    public static BodyResult JsonBody(byte[] utf8Json, int status = 200) => new(status, utf8Json, Json);
}
