using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using ServerlessServe.Hosting.Http;

namespace ServerlessServe.Admin;

/// <summary>
/// Every request no other route and method take: 404, or 405 with <c>Allow</c>, with a V2 error body, the same under
/// both hosts.
/// </summary>
public sealed class FallbackFunctions(UnmatchedRoutes unmatched)
{
    [Function("Unmatched")]
    public IActionResult Unmatched(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", "put", "delete", "head", "patch", "options", Route = "{*path}")] HttpRequest request) =>
        unmatched.Answer(request);
}
