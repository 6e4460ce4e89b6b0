using Microsoft.Extensions.Logging.Testing;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Hosting.Http;
using Answer = ServerlessServe.Hosting.Tests.Http.InferenceStandIn.Answer;

namespace ServerlessServe.Hosting.Tests.Http;

/// <summary>
/// The gateway's client of the inference app, with its resilience pipeline as the gateway registers it, over real
/// sockets to a stand-in for the app (<see cref="InferenceStandIn"/>) that answers 200 with a body the gateway cannot
/// take. A whole answer that does not read (an output of more dimensions than the gateway takes) is a failure, 500, the
/// same on every try: before 2026-12-08 it was 503 "inference service unavailable", which callers retried and a job's
/// item ran again five times. An answer cut short (the app died mid-body) is still the service unavailable, 503 with
/// Retry-After.
/// </summary>
public sealed class InferenceBadAnswerTests
{
    [Theory]
    [InlineData("rank above the limit", RefusalKind.Failed, 500, "the model's output cannot be returned")]
    [InlineData("cut short", RefusalKind.Unavailable, 503, "inference service unavailable")]
    public async Task Answer200_UnreadableIsAFailure_CutShortIsUnavailable(string answer, RefusalKind kind, int status, string message)
    {
        // A V2 response whose output has 65 dimensions (the gateway takes 64); cut short, its first kilobyte of the 4 KiB
        // declared, after which the connection ends.
        var shape = string.Join(',', Enumerable.Repeat(1, new ProtocolLimits().MaxRank + 1));
        var json = $$"""{"model_name":"credit-risk","model_version":"1","outputs":[{"name":"probabilities","datatype":"FP32","shape":[{{shape}}],"data":[0.5]}]}""";
        var whole = Answer.Json(200, json);
        await using var upstream = await InferenceStandIn.StartAsync(_ => answer == "cut short"
            ? whole with { Body = [.. whole.Body, .. Enumerable.Repeat((byte)' ', 4096 - whole.Body.Length)], CutOffAfter = 1024 }
            : whole);
        var logs = new FakeLogger<InferenceClient>();
        var client = upstream.Client(logger: logs);

        var refused = await Assert.ThrowsAsync<RefusedException>(() => client.InferAsync(InferenceStandIn.CreditRisk(), InferenceStandIn.CreditRiskRequest(), "req-1", default));

        Assert.Equal((kind, message), (refused.Kind, refused.Message));
        var answered = V2Results.Refused(refused.Refusal);
        Assert.Equal(status, answered.StatusCode);
        Assert.Equal(kind == RefusalKind.Unavailable, answered.Headers.ContainsKey("Retry-After"));

        // Logged as before: an answer that does not parse (1202), or the app unreachable mid-body (1200).
        Assert.Equal(kind == RefusalKind.Failed ? 1202 : 1200, Assert.Single(logs.Collector.GetSnapshot()).Id.Id);
    }
}
