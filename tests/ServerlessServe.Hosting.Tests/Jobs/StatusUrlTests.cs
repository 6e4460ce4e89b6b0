using Microsoft.AspNetCore.Http;
using ServerlessServe.Jobs;

namespace ServerlessServe.Hosting.Tests.Jobs;

/// <summary>
/// A job's status URL (Location, <c>status_url</c>) follows the route prefix the request came in by: host.json's
/// <c>extensions.http.routePrefix</c> may be <c>api</c> (the default), another, or empty.
/// </summary>
public sealed class StatusUrlTests
{
    [Theory]
    [InlineData("/api/v2/models/credit-risk/jobs", "http://localhost:7071/api/jobs/j1")]
    [InlineData("/api/v2/models/credit-risk/versions/3/jobs", "http://localhost:7071/api/jobs/j1")]
    [InlineData("/api/jobs/j1", "http://localhost:7071/api/jobs/j1")]
    [InlineData("/v2/models/credit-risk/jobs", "http://localhost:7071/jobs/j1")]
    [InlineData("/jobs/j1", "http://localhost:7071/jobs/j1")]
    [InlineData("/serve/v1/v2/models/jobs/jobs", "http://localhost:7071/serve/v1/jobs/j1")]
    [InlineData("/serve/jobs/x/jobs/j1", "http://localhost:7071/serve/jobs/x/jobs/j1")]
    [InlineData("/api/V2/Models/credit-risk/jobs", "http://localhost:7071/api/jobs/j1")]
    [InlineData("/api/JOBS/j1", "http://localhost:7071/api/jobs/j1")]
    public void StatusUrl_KeepsTheRequestsRoutePrefix(string path, string expected)
    {
        var context = new DefaultHttpContext();
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("localhost", 7071);
        context.Request.Path = path;

        Assert.Equal(expected, JobEndpoints.StatusUrl(context.Request, "j1"));
    }

    [Fact]
    public void StatusUrl_KeepsThePathBase()
    {
        var context = new DefaultHttpContext();
        context.Request.Scheme = "https";
        context.Request.Host = new HostString("gw.example");
        context.Request.PathBase = "/tenant";
        context.Request.Path = "/api/v2/models/digits/jobs";

        Assert.Equal("https://gw.example/tenant/api/jobs/j1", JobEndpoints.StatusUrl(context.Request, "j1"));
    }

    /// <summary>
    /// With the public base URL set, the status URL is on the host callers send to, whatever <c>Host</c> the app saw
    /// (behind Front Door, the origin's; or one a client made up): only its scheme and authority are taken.
    /// </summary>
    [Fact]
    public void StatusUrl_PublicBaseUrlSet_ItsSchemeAndHost_NotTheRequests()
    {
        var context = new DefaultHttpContext();
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("evil.example");
        context.Request.Path = "/api/v2/models/digits/jobs";

        Assert.Equal("https://serving.example.com:8443/api/jobs/j1", JobEndpoints.StatusUrl(context.Request, "j1", new Uri("https://serving.example.com:8443/")));
    }
}
