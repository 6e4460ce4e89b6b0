using System.Net;
using System.Text.RegularExpressions;
using ServerlessServe.Integration.Tests.Fixtures;
using ServerlessServe.Local;

namespace ServerlessServe.Integration.Tests.Hosting;

/// <summary>
/// host.json keeps the Functions host's two lines per invocation ("Executing 'Functions.Infer'", "Executed ...", category
/// <c>Function.NAME</c>) below its log level, while what the apps log inside an invocation (<c>Function.NAME.User</c>)
/// still shows: at concurrency 8 those lines cost the hosts about 0.9 ms of CPU a request (docs/performance.md, "The
/// host's two log lines per invocation").
/// </summary>
[Collection(StackCollection.Name)]
public sealed partial class InvocationLoggingTests(StackFixture fixture)
{
    [StackFact]
    public async Task Invocations_NoPerInvocationLines_AppLinesKept()
    {
        // Invocations of the sync path, answered; the gateway's first use of the model in this process verifies it from
        // inside an invocation.
        for (var i = 0; i < 5; i++)
        {
            using var response = await fixture.Gateway.PostAsync(
                "v2/models/credit-risk/infer",
                StackFixture.Json("""{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.35,0.4,1,9]}]}"""));
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        }

        var log = StackFixture.ReadLog(fixture.Stack.GatewayLog);
        // A failed invocation is still logged ("Executed 'Functions.X' (Failed, ...)", an error): other tests of the lane
        // cause some. Only the lines of every invocation are gone.
        Assert.DoesNotContain("Executing 'Functions.", log, StringComparison.Ordinal);
        Assert.DoesNotMatch(SucceededInvocation(), log);
        if (Lane.Host == AppHost.Functions)
        {
            // The model's verification, logged inside an invocation, relayed by the host under the invocation's user
            // category.
            Assert.Matches(UserCategory(), log);
        }
    }

    [GeneratedRegex(@"Executed 'Functions\.\w+' \(Succeeded")]
    private static partial Regex SucceededInvocation();

    [GeneratedRegex(@"info: Function\.\w+\.User\[")]
    private static partial Regex UserCategory();
}
