namespace ServerlessServe.Hosting.Http;

/// <summary>
/// Request ids are always made by the gateway (never taken from the caller, who could otherwise write chosen text
/// into the immutable audit log or reuse another request's id). The id is returned in the <c>x-request-id</c>
/// response header so callers can quote it.
/// </summary>
public static class RequestIds
{
    public const string Header = "x-request-id";

    public static string New() => Guid.NewGuid().ToString("N");
}
