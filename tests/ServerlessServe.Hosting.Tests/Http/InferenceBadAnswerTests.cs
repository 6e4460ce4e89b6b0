using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Hosting.Http;
using ServerlessServe.Hosting.Identity;
using ServerlessServe.Hosting.Options;
using ServerlessServe.Hosting.Tests.Identity;

namespace ServerlessServe.Hosting.Tests.Http;

/// <summary>
/// The gateway's client of the inference app, with its resilience pipeline as the gateway registers it, over real
/// sockets to a stand-in for the app on loopback Kestrel that answers 200 with a body the gateway cannot take. A whole
/// answer that does not read (an output of more dimensions than the gateway takes) is a failure, 500, the same on every
/// try: before 2026-12-08 it was 503 "inference service unavailable", which callers retried and a job's item ran again
/// five times. An answer cut short (the app died mid-body) is still the service unavailable, 503 with Retry-After.
/// </summary>
public sealed class InferenceBadAnswerTests
{
    [Theory]
    [InlineData("rank above the limit", RefusalKind.Failed, 500, "the model's output cannot be returned")]
    [InlineData("cut short", RefusalKind.Unavailable, 503, "inference service unavailable")]
    public async Task Answer200_UnreadableIsAFailure_CutShortIsUnavailable(string answer, RefusalKind kind, int status, string message)
    {
        await using var app = await StandInAsync(answer);
        using var services = Services(new Uri(app.Urls.First() + "/api/"));
        var logs = new FakeLogger<InferenceClient>();
        var client = new InferenceClient(
            services.GetRequiredService<IHttpClientFactory>().CreateClient(InferenceClient.HttpClientName),
            new ServiceTokenCache(new ScriptedCredential(TimeProvider.System), Microsoft.Extensions.Options.Options.Create(new ServiceTokenOptions { Resource = "api://inference" }), TimeProvider.System, NullLogger<ServiceTokenCache>.Instance),
            new ProtocolLimits(),
            logs,
            TimeProvider.System);

        var refused = await Assert.ThrowsAsync<RefusedException>(() => client.InferAsync(InferenceBreakerTests.CreditRisk(), InferenceBreakerTests.CreditRiskRequest(), "req-1", default));

        Assert.Equal((kind, message), (refused.Kind, refused.Message));
        var answered = V2Results.Refused(refused.Refusal);
        Assert.Equal(status, answered.StatusCode);
        Assert.Equal(kind == RefusalKind.Unavailable, answered.Headers.ContainsKey("Retry-After"));

        // Logged as before: an answer that does not parse (1202), or the app unreachable mid-body (1200).
        Assert.Equal(kind == RefusalKind.Failed ? 1202 : 1200, Assert.Single(logs.Collector.GetSnapshot()).Id.Id);
    }

    // The inference app's infer route, answering 200 with a V2 response whose output has 65 dimensions (the gateway takes
    // 64), or one that breaks off after its first kilobyte of the 4 KiB it declared (a moment after it, so that the
    // client has its headers and is reading the body: an abort before them is a connection that failed, retried).
    private static async Task<WebApplication> StandInAsync(string answer)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost("/api/v2/models/{model}/versions/{version}/infer", async (HttpContext http) =>
        {
            await http.Request.Body.CopyToAsync(Stream.Null, http.RequestAborted);
            var shape = string.Join(',', Enumerable.Repeat(1, new ProtocolLimits().MaxRank + 1));
            var body = Encoding.UTF8.GetBytes($$"""{"model_name":"credit-risk","model_version":"1","outputs":[{"name":"probabilities","datatype":"FP32","shape":[{{shape}}],"data":[0.5]}]}""");
            http.Response.StatusCode = StatusCodes.Status200OK;
            http.Response.ContentType = "application/json";
            if (answer == "cut short")
            {
                http.Response.ContentLength = 4096;
                await http.Response.Body.WriteAsync(body.AsMemory(0, Math.Min(body.Length, 1024)), http.RequestAborted);
                await http.Response.Body.FlushAsync(http.RequestAborted);
                await Task.Delay(250, http.RequestAborted);
                http.Abort();
                return;
            }

            http.Response.ContentLength = body.Length;
            await http.Response.Body.WriteAsync(body, http.RequestAborted);
        });
        await app.StartAsync();
        return app;
    }

    // The inference client as the gateway registers it (base address, resilience pipeline), its primary handler the
    // default one: a real connection to the stand-in.
    private static ServiceProvider Services(Uri baseUrl)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IOptions<GatewayOptions>>(Microsoft.Extensions.Options.Options.Create(new GatewayOptions { InferenceBaseUrl = baseUrl }));
        InferenceResilience.AddTo(services.AddHttpClient(InferenceClient.HttpClientName, c => c.BaseAddress = baseUrl));
        return services.BuildServiceProvider();
    }
}
