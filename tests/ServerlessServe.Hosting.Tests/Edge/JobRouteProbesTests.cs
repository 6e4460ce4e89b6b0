using System.Net;
using System.Text;
using ServerlessServe.Local.Fuzz;

namespace ServerlessServe.Hosting.Tests.Edge;

/// <summary>
/// The route probes' oracle (<see cref="JobRouteProbes"/>), against a gateway's job routes as written here: answered as
/// the gateway promises, nothing is found; each way of answering wrong is found. The probes against the real gateway run
/// in <see cref="EdgeFuzzTests"/> and <c>ssctl fuzz edge</c>.
/// </summary>
public sealed class JobRouteProbesTests
{
    private const string Id = "0a1b2c3d0123456789abcdef01234567";
    private static readonly JobEnding Completed = new(null, Id, 2, false);

    [Fact]
    public async Task Probes_RoutesAnsweredAsPromised_NothingFound()
    {
        using var client = Gateway(Broken.None);

        Assert.Null(await JobRouteProbes.AsAnotherCallerAsync(client, "other", Id, CancellationToken.None));
        for (var seed = 0; seed < 200; seed++)
        {
            Assert.Null(await JobRouteProbes.AsItsCallerAsync(client, "owner", Completed, new Random(seed), CancellationToken.None));
        }
    }

    [Theory]
    [InlineData(Broken.AnotherCallerReads, "another caller's GET of the job answered 200")]
    [InlineData(Broken.AnotherCallerCancels, "another caller's DELETE of the job answered 202")]
    public async Task AnotherCaller_ReachesTheJob_Found(Broken broken, string problem)
    {
        using var client = Gateway(broken);

        Assert.StartsWith(problem, await JobRouteProbes.AsAnotherCallerAsync(client, "other", Id, CancellationToken.None), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Broken.MutatedIdsNameTheJob, "its ")]
    [InlineData(Broken.OddPreferRefused, "its status with Prefer")]
    [InlineData(Broken.OtherMethodsServed, "its ")]
    [InlineData(Broken.CancelOfEndedJobChangesIt, "its DELETE of the ended job answered 202")]
    public async Task ItsCaller_RoutesAnswerWrong_Found(Broken broken, string problem)
    {
        using var client = Gateway(broken);

        // Every draw of the probes meets the broken answer: the prefer probe, a mutated id and another method come in each.
        for (var seed = 0; seed < 20; seed++)
        {
            var found = await JobRouteProbes.AsItsCallerAsync(client, "owner", Completed, new Random(seed), CancellationToken.None);
            Assert.NotNull(found);
            Assert.StartsWith(problem, found, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void MutatedPath_NeverTheJobsOwnRoute()
    {
        var random = new Random(11);
        for (var i = 0; i < 2000; i++)
        {
            var (mutation, path) = JobRouteProbes.MutatedPath(random, Id);
            Assert.NotEqual(JobRouteProbes.JobPath(Id), Uri.UnescapeDataString(path));
            Assert.NotEqual("jobs/" + Id, Uri.UnescapeDataString(path));
            Assert.False(string.IsNullOrEmpty(mutation));
        }
    }

    public enum Broken
    {
        None,
        AnotherCallerReads,
        AnotherCallerCancels,
        MutatedIdsNameTheJob,
        OddPreferRefused,
        OtherMethodsServed,
        CancelOfEndedJobChangesIt,
    }

    private static HttpClient Gateway(Broken broken) => new(new Routes(broken)) { BaseAddress = new Uri("http://gateway.test/api/") };

    // The job routes of a gateway with one completed job of the caller "owner", answering as promised except for what is broken.
    private sealed class Routes(Broken broken) : HttpMessageHandler
    {
        private const string Error = """{"error":"no such job"}""";

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var caller = request.Headers.Authorization?.Parameter;
            var path = request.RequestUri!.AbsolutePath;
            var named = path == "/api/jobs/" + Id;
            var prefer = request.Headers.TryGetValues("Prefer", out var values) ? string.Join(",", values) : null;
            var status = """{"id":"ID","status":"completed","items":2,"results":[{"index":0,"outcome":"invalid","error":"x"},{"index":1,"outcome":"invalid","error":"y"}]}""".Replace("ID", Id, StringComparison.Ordinal);
            var (code, body) = (named || broken == Broken.MutatedIdsNameTheJob && path.StartsWith("/api/jobs/", StringComparison.Ordinal), request.Method.Method) switch
            {
                (false, _) => (HttpStatusCode.NotFound, Error),
                (true, "GET") when caller == "owner" || broken == Broken.AnotherCallerReads =>
                    prefer is not null && broken == Broken.OddPreferRefused ? (HttpStatusCode.BadRequest, """{"error":"bad Prefer"}""") : (HttpStatusCode.OK, status),
                (true, "DELETE") when caller == "owner" || broken == Broken.AnotherCallerCancels =>
                    (HttpStatusCode.Accepted, $$"""{"id":"{{Id}}","status":"{{(broken == Broken.CancelOfEndedJobChangesIt ? "cancelled" : "completed")}}"}"""),
                (true, "GET" or "DELETE") => (HttpStatusCode.NotFound, Error),
                _ when broken == Broken.OtherMethodsServed => (HttpStatusCode.OK, status),
                _ => (HttpStatusCode.MethodNotAllowed, """{"error":"method not allowed"}"""),
            };
            return Task.FromResult(new HttpResponseMessage(code) { Content = new StringContent(body, Encoding.UTF8, "application/json") });
        }
    }
}
