using Microsoft.AspNetCore.Http;

namespace ServerlessServe.Core.Serving;

/// <summary>Request ids: the caller's <c>x-request-id</c> when it is short and plain, a new one otherwise.</summary>
public static class RequestIds
{
    public static string From(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var supplied = request.Headers["x-request-id"].ToString();
        return IsPlain(supplied) ? supplied : Guid.NewGuid().ToString("N");
    }

    private static bool IsPlain(string value) =>
        value.Length is > 0 and <= 64 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}
