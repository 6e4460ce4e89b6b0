using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Security;
using ServerlessServe.Hosting.Identity;
using ServerlessServe.Hosting.Tests.Fixtures;
using ServerlessServe.Local;

namespace ServerlessServe.Hosting.Tests.Identity;

/// <summary>
/// Caller tokens at the gateway's edge, in-process, against the real local issuer's metadata over HTTP: both signing
/// algorithms are served; every refused token gets the one 401 body, and only the log says why (its reason name, never
/// the token).
/// </summary>
[Collection(InProcessStackCollection.Name)]
public sealed class CallerTokenEdgeTests(InProcessStack stack)
{
    private const string CreditRisk = """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.35,0.4,1,9]}]}""";

    [Theory]
    [InlineData(LocalIssuerKey.Es256)]
    [InlineData(LocalIssuerKey.Rs256)]
    public async Task Infer_TokenFromTheIssuer_Served(string algorithm)
    {
        using var response = await InferAsync(stack.Issuer.Mint("edge-" + algorithm, lifetime: TimeSpan.FromMinutes(5), algorithm: algorithm));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Infer_TokenOfAnUnknownKey_SameBodyAsNoTokenReasonLoggedOnly()
    {
        using var stranger = LocalIssuerKey.Create(LocalIssuerKey.Es256);
        var token = stack.Issuer.Mint(stranger, "mallory", lifetime: TimeSpan.FromMinutes(5));

        using var forged = await InferAsync(token);
        using var none = await InferAsync(null);

        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        Assert.Equal(await none.Content.ReadAsStringAsync(), await forged.Content.ReadAsStringAsync());
        var requestId = Assert.Single(forged.Headers.GetValues("x-request-id"));
        var logs = stack.GatewayLogs.GetSnapshot();
        Assert.Contains(logs, r => r.Id.Id == 2010 && r.Message.Contains(requestId, StringComparison.Ordinal) && r.Message.Contains("(unknown_kid)", StringComparison.Ordinal));
        Assert.DoesNotContain(logs, r => r.Message.Contains(token.Split('.')[1], StringComparison.Ordinal) || r.Message.Contains(stranger.KeyId, StringComparison.Ordinal));
    }

    /// <summary>
    /// A model the gateway has not seen yet is looked at first (inline or orchestrated?), and a refused look-ahead is
    /// answered by the inline path, which authenticates again: the refused token was logged (2010) and counted twice
    /// (review, 2026-12-07). Once now.
    /// </summary>
    [Fact]
    public async Task Infer_RefusedTokenForAModelNotSeenYet_LoggedOnce()
    {
        var before = stack.GatewayLogs.GetSnapshot().Count(r => r.Id.Id == 2010);
        using var client = stack.Client(subject: null);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "not-a-token");

        using var refused = await client.PostAsync($"v2/models/unseen-{Guid.NewGuid():N}/infer", new StringContent(CreditRisk, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(before + 1, stack.GatewayLogs.GetSnapshot().Count(r => r.Id.Id == 2010));
    }

    [Fact]
    public async Task Infer_RefusedTokens_CountedByReasonInAnAuditedSummary_NoTokenContent()
    {
        using var stranger = LocalIssuerKey.Create(LocalIssuerKey.Es256);
        var forged = stack.Issuer.Mint(stranger, "mallory-summary", lifetime: TimeSpan.FromMinutes(5));
        var before = stack.SecurityEvents.OfKind(SecurityEventKinds.AuthRefusals).Count;

        for (var i = 0; i < 3; i++)
        {
            using var refused = await InferAsync(forged);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        using (var missing = await InferAsync(null))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        }

        var summaries = stack.GatewayServices.GetServices<IHostedService>().OfType<AuthRefusalSummaries>().Single();
        await summaries.WriteAsync(default);

        // The background summary may have taken some of them first: every summary since the test began counts.
        var raised = stack.SecurityEvents.OfKind(SecurityEventKinds.AuthRefusals).Skip(before).ToList();
        Assert.NotEmpty(raised);
        Assert.All(raised, e => Assert.Equal((CallerPseudonymizer.Anonymous, "none"), (e.Caller, e.Action.Name)));
        Assert.True(raised.Sum(e => long.Parse(e.Evidence.GetValueOrDefault("unknown_kid", "0"), CultureInfo.InvariantCulture)) >= 3);
        Assert.True(raised.Sum(e => long.Parse(e.Evidence.GetValueOrDefault("missing", "0"), CultureInfo.InvariantCulture)) >= 1);
        var lines = await stack.AuditLinesAsync();
        Assert.Contains(lines, l => l.Contains(raised[^1].Id, StringComparison.Ordinal) && l.Contains("\"auth-refusals\"", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains(forged.Split('.')[1], StringComparison.Ordinal) || l.Contains(stranger.KeyId, StringComparison.Ordinal));
    }

    private async Task<HttpResponseMessage> InferAsync(string? token)
    {
        using var client = stack.Client(subject: null);
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await client.PostAsync("v2/models/credit-risk/infer", new StringContent(CreditRisk, Encoding.UTF8, "application/json"));
    }
}
