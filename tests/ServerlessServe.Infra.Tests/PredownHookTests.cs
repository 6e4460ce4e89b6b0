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
    public async Task Confirmed_SkipsTheCheck_AndSaysSo()
    {
        _hook.AzdEnv["SERVERLESSSERVE_DOWN_CONFIRMED"] = "true";

        var run = await _hook.RunAsync("predown.sh");

        Assert.Equal(0, run.ExitCode);
        Assert.Empty(run.AzCalls);
        Assert.Contains("not checking", run.Errors, StringComparison.Ordinal);
    }
}
