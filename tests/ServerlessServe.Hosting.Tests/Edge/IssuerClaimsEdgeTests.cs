using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ServerlessServe.Hosting.Tests.Fixtures;

namespace ServerlessServe.Hosting.Tests.Edge;

/// <summary>
/// Tokens the trusted issuer did sign, with claims at the edges of what JSON and the token library allow: a caller
/// named by them is answered as any caller is (served, or refused with a 4xx and the V2 error body), never with a 5xx.
/// Two of them (ill-formed UTF-8 in <c>roles</c>, an <c>iat</c> past the year 9999) made the gateway answer 500 until
/// the headers fuzz target found them; both are now the 401 of every refused token.
/// </summary>
[Collection(InProcessStackCollection.Name)]
public sealed class IssuerClaimsEdgeTests(InProcessStack stack)
{
    private const string Body = """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.5,1.5,2.5,3.5]}]}""";

    public static TheoryData<string, string?> Claims() => new()
    {
        // name, the claims beyond iss/aud/exp/nbf (raw JSON members), null: a placeholder for ill-formed UTF-8
        { "a role not UTF-8", null },
        { "iat past the year 9999", "\"sub\":\"edge-claims\",\"iat\":180000000000000" },
        { "iat before the year 1", "\"sub\":\"edge-claims\",\"iat\":-99999999999999" },
        { "iat a string", "\"sub\":\"edge-claims\",\"iat\":\"yesterday\"" },
        { "iat a fraction", "\"sub\":\"edge-claims\",\"iat\":1.5" },
        { "sub of 8,000 characters", "\"sub\":\"" + new string('s', 8000) + "\"" },
        { "sub with control characters", "\"sub\":\"a\\u0000b\\r\\nc\\u001b[31m\\u202e\"" },
        { "sub outside the BMP", "\"sub\":\"\\ud83d\\ude00-caller\"" },
        { "sub a lone surrogate", "\"sub\":\"\\ud800\"" },
        { "sub empty", "\"sub\":\"\"" },
        { "sub a number", "\"sub\":42" },
        { "sub an object", "\"sub\":{\"a\":1}" },
        { "roles a string", "\"sub\":\"edge-claims\",\"roles\":\"scorer\"" },
        { "roles of every type", "\"sub\":\"edge-claims\",\"roles\":[1,true,null,{\"a\":1},[\"x\"],\"scorer\"]" },
        { "a thousand roles", "\"sub\":\"edge-claims\",\"roles\":[" + string.Join(',', Enumerable.Range(0, 1000).Select(i => "\"r" + i.ToString(CultureInfo.InvariantCulture) + "\"")) + "]" },
        { "jti of 4,000 characters", "\"sub\":\"edge-claims\",\"jti\":\"" + new string('j', 4000) + "\"" },
        { "jti a number", "\"sub\":\"edge-claims\",\"jti\":7" },
        { "uti an array", "\"sub\":\"edge-claims\",\"uti\":[\"u\"]" },
        { "azp not a string", "\"sub\":\"edge-claims\",\"azp\":{\"x\":[]}" },
    };

    [Theory]
    [MemberData(nameof(Claims))]
    public async Task SignedTokenWithOddClaims_AnsweredNeverAServerError(string name, string? members)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var standard = $"\"iss\":{JsonSerializer.Serialize(stack.Issuer.Issuer)},\"aud\":\"api://serverlessserve\",\"nbf\":{now},\"exp\":{now + 600}";
        byte[] payload;
        if (members is null)
        {
            payload = Encoding.UTF8.GetBytes("{" + standard + ",\"sub\":\"edge-claims\",\"roles\":[\"scorer\",\"@@\"]}");
            var at = payload.AsSpan().IndexOf("@@"u8);
            payload[at] = 0xC2; // a lead byte followed by 'A': ill-formed
            payload[at + 1] = (byte)'A';
        }
        else
        {
            payload = Encoding.UTF8.GetBytes("{" + standard + "," + members + "}");
        }

        using var client = stack.Client(subject: null);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v2/models/credit-risk/infer") { Content = new StringContent(Body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", stack.Issuer.SignPayload(payload));

        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True((int)response.StatusCode < 500, $"{name}: {(int)response.StatusCode} {text}");
        if (response.StatusCode != HttpStatusCode.OK)
        {
            using var error = JsonDocument.Parse(text);
            Assert.Equal(JsonValueKind.String, error.RootElement.GetProperty("error").ValueKind);
        }

        if (name is "a role not UTF-8" or "iat past the year 9999" or "iat before the year 1")
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }
}
