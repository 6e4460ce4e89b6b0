namespace ServerlessServe.Infra.Tests;

/// <summary>infra/hooks/predown.sh with <see cref="HookRunner"/>'s stand-ins: `azd down` is stopped before it starts when locks would make it fail half-way.</summary>
public sealed class PredownHookTests : IDisposable
{
    private readonly HookRunner _hook = new();

    public PredownHookTests() => _hook.AzdEnv["AZURE_RESOURCE_GROUP"] = "rg-prod";

    public void Dispose() => _hook.Dispose();

    [Fact]
    public async Task LockedGroup_StopsDown_NamingTheLockAndTheWaysOut()
    {
        _hook.Az["lock"] = "audit-trail\t/subscriptions/s/resourceGroups/rg-prod/providers/Microsoft.Storage/storageAccounts/stdata1/providers/Microsoft.Authorization/locks/audit-trail";

        var run = await _hook.RunAsync("predown.sh");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("rg-prod holds locks that protect the audit trail", run.Errors, StringComparison.Ordinal);
        Assert.Contains("audit-trail  /subscriptions/s/resourceGroups/rg-prod/", run.Errors, StringComparison.Ordinal);
        Assert.Contains("SERVERLESSSERVE_RESOURCE_SALT", run.Errors, StringComparison.Ordinal);
        Assert.Equal(["lock list --resource-group rg-prod --query [].[name, id] -o tsv"], run.AzCalls);
    }

    [Fact]
    public async Task GroupWithoutLocks_LetsDownGoOn()
    {
        _hook.Az["lock"] = string.Empty;

        var run = await _hook.RunAsync("predown.sh");

        Assert.Equal(0, run.ExitCode);
    }

    [Fact]
    public async Task GroupGoneAlready_LetsDownGoOn_ButAListingFailureOtherwiseStopsIt()
    {
        // The lock listing fails (no answer file: the stand-in exits 1); then whether the group exists decides.
        _hook.AzScript = """
            case "$1" in
              lock) echo "ResourceGroupNotFound" >&2; exit 1 ;;
              group) cat "$ANSWERS/az-group" ;;
            esac
            """;
        _hook.Az["group"] = "false";

        var gone = await _hook.RunAsync("predown.sh");

        Assert.Equal(0, gone.ExitCode);
        Assert.Contains("rg-prod does not exist any more", gone.Errors, StringComparison.Ordinal);
        Assert.Equal("group exists --name rg-prod", gone.AzCalls[^1]);

        _hook.Az["group"] = "true";
        var signedOut = await _hook.RunAsync("predown.sh");
        Assert.Equal(1, signedOut.ExitCode);
        Assert.Contains("could not list the locks of rg-prod", signedOut.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Confirmed_SkipsTheCheck_AndSaysSo()
    {
        _hook.AzdEnv["SERVERLESSSERVE_DOWN_CONFIRMED"] = "true";

        var run = await _hook.RunAsync("predown.sh");

        Assert.Equal(0, run.ExitCode);
        Assert.Empty(run.AzCalls);
        Assert.Contains("not checking", run.Errors, StringComparison.Ordinal);
    }
}
