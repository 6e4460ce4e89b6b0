using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Hosting.Http;

/// <summary>Factory for the platform's HTTP results. Error bodies are always <c>{"error": "..."}</c> with a safe message.</summary>
public static class V2Results
{
    public const string Json = "application/json";

    public static BodyResult Error(int status, string safeMessage)
    {
        var result = new BodyResult(status, V2Json.WriteError(safeMessage), Json);
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
        return Error(RefusalMapping.StatusCode(refusal.Kind), refusal.Message);
    }

    public static BodyResult JsonBody(byte[] utf8Json, int status = 200) => new(status, utf8Json, Json);
}
