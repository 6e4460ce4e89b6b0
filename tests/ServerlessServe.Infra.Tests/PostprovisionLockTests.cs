namespace ServerlessServe.Infra.Tests;

/// <summary>
/// The opt-in retention lock of infra/hooks/postprovision.sh (docs/deploy.md, "Data protection and audit"), run by the
/// real shell with <see cref="HookRunner"/>'s stand-ins, `az` answering per account and query. Under test: which
/// policies it locks, with which etag, that a locked one is left alone, that it stops on a missing policy, that it
/// records the lock for the next provision (SERVERLESSSERVE_AUDIT_RETENTION_LOCKED) once a policy is locked and only
/// then, and that without the opt-in it calls nothing.
/// (The PowerShell twin cannot run here: no pwsh; DataProtectionTests checks it names the same steps.)
/// </summary>
public sealed class PostprovisionLockTests : IDisposable
{
    private const string Data = "stdataabc";
    private const string Witness = "stwitabc";

    private readonly HookRunner _hook = new();

    public void Dispose() => _hook.Dispose();

    [Fact]
    public async Task OptIn_BothUnlocked_LocksEachWithItsOwnEtag()
    {
        var run = await RunAsync(Env(lockRetention: true), Policies(("Unlocked", "\"e-data\""), ("Unlocked", "\"e-wit\"")));

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(
            [
                $"storage container immutability-policy lock --account-name {Data} --container-name audit --resource-group rg-prod --if-match \"e-data\" --output none",
                $"storage container immutability-policy lock --account-name {Witness} --container-name audit-witness --resource-group rg-prod --if-match \"e-wit\" --output none",
            ],
            run.AzCalls.Where(c => c.Contains(" lock ", StringComparison.Ordinal)));
        Assert.Contains($"Retention lock: {Data}/audit locked.", run.Output, StringComparison.Ordinal);
        Assert.Contains($"Retention lock: {Witness}/audit-witness locked.", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OptIn_AlreadyLocked_IsLeftAlone_SoTheHookCanRunAgain()
    {
        var run = await RunAsync(Env(lockRetention: true), Policies(("Locked", "\"e-data\""), ("Unlocked", "\"e-wit\"")));

        Assert.Equal(0, run.ExitCode);
        Assert.Contains($"Retention lock: {Data}/audit is already locked; nothing to do.", run.Output, StringComparison.Ordinal);
        Assert.Equal(
            [$"storage container immutability-policy lock --account-name {Witness} --container-name audit-witness --resource-group rg-prod --if-match \"e-wit\" --output none"],
            run.AzCalls.Where(c => c.Contains(" lock ", StringComparison.Ordinal)));
    }

    /// <summary>
    /// A locked policy can only be extended: the next provision must leave both out of the template
    /// (auditRetentionLocked, from SERVERLESSSERVE_AUDIT_RETENTION_LOCKED), or Azure refuses it. The hook records it, with
    /// the salt the locked accounts were named with, once the policies are locked, and also when it finds them locked
    /// already (environments locked before 2026-12-07, when nothing recorded it).
    /// </summary>
    [Theory]
    [InlineData("Unlocked")]
    [InlineData("Locked")]
    public async Task OptIn_OnceLocked_TellsTheNextProvisionToLeaveThePoliciesOut(string state)
    {
        var env = Env(lockRetention: true);
        env["SERVERLESSSERVE_RESOURCE_SALT"] = "s1";

        var run = await RunAsync(env, Policies((state, "\"e-data\""), (state, "\"e-wit\"")));

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("true", run.Env["SERVERLESSSERVE_AUDIT_RETENTION_LOCKED"]);
        Assert.Equal("s1", run.Env["SERVERLESSSERVE_AUDIT_RETENTION_LOCKED_SALT"]);
    }

    [Fact]
    public async Task OptIn_LockRefused_RecordsNothing_SoTheNextProvisionStillDeclaresThePolicies()
    {
        _hook.Az[$"{Data}-lock"] = "refused";

        var run = await RunAsync(Env(lockRetention: true), Policies(("Unlocked", "\"e-data\""), ("Unlocked", "\"e-wit\"")));

        Assert.NotEqual(0, run.ExitCode);
        Assert.False(run.Env.ContainsKey("SERVERLESSSERVE_AUDIT_RETENTION_LOCKED"));
    }

    [Fact]
    public async Task OptIn_WitnessLockRefused_AfterAuditLocked_StillRecordsTheLock()
    {
        // The audit policy is locked by then: sending it again would fail the next provision whatever the witness's state.
        _hook.Az[$"{Witness}-lock"] = "refused";

        var run = await RunAsync(Env(lockRetention: true), Policies(("Unlocked", "\"e-data\""), ("Unlocked", "\"e-wit\"")));

        Assert.NotEqual(0, run.ExitCode);
        Assert.Equal("true", run.Env["SERVERLESSSERVE_AUDIT_RETENTION_LOCKED"]);
    }

    [Fact]
    public async Task OptIn_NoPolicy_Stops_WithoutLockingAnything()
    {
        var run = await RunAsync(Env(lockRetention: true), Policies((string.Empty, string.Empty), ("Unlocked", "\"e-wit\"")));

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains($"{Data}/audit has no time-based retention policy", run.Errors, StringComparison.Ordinal);
        Assert.DoesNotContain(run.AzCalls, c => c.Contains(" lock ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task OptIn_PolicyUnreadable_Stops_SayingWhy()
    {
        var run = await RunAsync(Env(lockRetention: true), []);

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains($"cannot read the retention policy of {Data}/audit", run.Errors, StringComparison.Ordinal);
        Assert.DoesNotContain(run.AzCalls, c => c.Contains(" lock ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithoutOptIn_CallsNothing_AndSaysThePoliciesStayUnlocked()
    {
        var run = await RunAsync(Env(lockRetention: false), Policies(("Unlocked", "\"e-data\""), ("Unlocked", "\"e-wit\"")));

        Assert.Equal(0, run.ExitCode);
        Assert.Empty(run.AzCalls);
        Assert.Contains("Audit retention policies stay unlocked", run.Output, StringComparison.Ordinal);
        Assert.False(run.Env.ContainsKey("SERVERLESSSERVE_AUDIT_RETENTION_LOCKED"));
    }

    [Theory]
    [InlineData("https://func-gateway-abc.azurewebsites.net/api", false)]
    [InlineData("https://func-gateway-abc-h7d2.swedencentral-01.azurewebsites.net/api", true)]
    public async Task PublicOrigin_NotTheGatewaysHost_IsWarned(string gatewayUri, bool warned)
    {
        var env = Env(lockRetention: false);
        env["SERVERLESSSERVE_SIGNATURES_PUBLIC_BASE_URL"] = "https://func-gateway-abc.azurewebsites.net";
        env["SERVICE_GATEWAY_URI"] = gatewayUri;

        var run = await RunAsync(env, []);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(warned, run.Errors.Contains("signed requests are checked against https://func-gateway-abc.azurewebsites.net", StringComparison.Ordinal));
    }

    private static Dictionary<string, string> Env(bool lockRetention)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["AZURE_ENV_NAME"] = "prod",
            ["AZURE_RESOURCE_GROUP"] = "rg-prod",
            ["AZURE_STORAGE_ACCOUNT_NAME"] = Data,
            ["SERVERLESSSERVE_AUDIT_CONTAINER"] = "audit",
            ["SERVERLESSSERVE_AUDIT_WITNESS_ACCOUNT_NAME"] = Witness,
            ["SERVERLESSSERVE_AUDIT_WITNESS_CONTAINER"] = "audit-witness",
            // Publishing the samples (publish-samples.sh, run last) is not under test here.
            ["SERVERLESSSERVE_PUBLISH_SAMPLES"] = "false",
        };
        if (lockRetention)
        {
            env["SERVERLESSSERVE_LOCK_AUDIT_RETENTION"] = "true";
        }

        return env;
    }

    /// <summary>`az ... show --query state|etag` answers for the data and the witness account.</summary>
    private static Dictionary<string, string> Policies((string State, string Etag) data, (string State, string Etag) witness) => new(StringComparer.Ordinal)
    {
        [$"{Data}-state"] = data.State,
        [$"{Data}-etag"] = data.Etag,
        [$"{Witness}-state"] = witness.State,
        [$"{Witness}-etag"] = witness.Etag,
    };

    private async Task<HookRunner.Result> RunAsync(Dictionary<string, string> azdEnv, Dictionary<string, string> azAnswers)
    {
        foreach (var (key, value) in azdEnv)
        {
            _hook.AzdEnv[key] = value;
        }

        foreach (var (key, value) in azAnswers)
        {
            _hook.Az[key] = value;
        }

        // az storage container immutability-policy show|lock ...: show prints the answer for its account and query (no
        // answer: the call fails, as without a login or a role); lock succeeds unless an answer '<account>-lock' is given.
        _hook.AzScript = """
            verb=$4 account= query=
            while [ $# -gt 0 ]; do
              case "$1" in
                --account-name) account=$2; shift ;;
                --query) query=$2; shift ;;
              esac
              shift
            done
            if [ "$verb" = lock ]; then
              [ -f "$ANSWERS/az-$account-lock" ] && { echo "az stand-in: lock of $account refused" >&2; exit 1; }
              exit 0
            fi
            answer="$ANSWERS/az-$account-$query"
            [ -f "$answer" ] || { echo "az stand-in: no answer for $account $query" >&2; exit 1; }
            cat "$answer"
            """;
        return await _hook.RunAsync("postprovision.sh");
    }
}
