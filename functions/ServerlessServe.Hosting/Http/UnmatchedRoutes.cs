using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using ServerlessServe.Hosting.Functions;

namespace ServerlessServe.Hosting.Http;

/// <summary>
/// The answer for a request that no function's route and method take, given by each app's catch-all function so both
/// hosts answer alike (the Functions host alone would send an empty 404 for a wrong method): 405 with <c>Allow</c> when
/// the path has routes for other methods, otherwise 404; a V2 error body either way.
/// </summary>
public sealed class UnmatchedRoutes(FunctionRouteTable routes)
{
    public IActionResult Answer(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var allowed = routes.AllowedMethods(request.Path);
        if (allowed.Count == 0)
        {
            return V2Results.Error(404, "no such route");
        }

        var result = V2Results.Error(405, "method not allowed");
        result.Headers["Allow"] = string.Join(", ", allowed);
        return result;
    }
}
