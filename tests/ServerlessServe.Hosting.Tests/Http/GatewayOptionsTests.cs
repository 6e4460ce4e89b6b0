using ServerlessServe.Hosting.Options;

namespace ServerlessServe.Hosting.Tests.Http;

/// <summary>
/// The inference app's URL: every call carries the gateway's service token, so it is https unless on loopback (found in
/// review 2026-12-07: any http URL was taken, and the token crossed the network in clear text).
/// </summary>
public sealed class GatewayOptionsTests
{
    [Theory]
    [InlineData("https://inference.internal.example/api", true)]
    [InlineData("http://127.0.0.1:7072/api", true)]
    [InlineData("http://[::1]:7072/api", true)]
    [InlineData("http://localhost:7072/api", true)]
    [InlineData("http://inference.internal.example/api", false)]
    [InlineData("http://10.0.0.4/api", false)]
    [InlineData("ftp://127.0.0.1/api", false)]
    public void Validate_InferenceBaseUrl_HttpsUnlessLoopback(string url, bool valid)
    {
        var result = new GatewayOptionsValidator().Validate(null, new GatewayOptions { InferenceBaseUrl = new Uri(url) });

        Assert.Equal(valid, result.Succeeded);
        if (!valid)
        {
            Assert.Contains("InferenceBaseUrl", result.FailureMessage, StringComparison.Ordinal);
        }
    }
}
