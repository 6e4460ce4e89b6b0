namespace ServerlessServe.Infra.Tests;

/// <summary>
/// infra/hooks/publish-samples.sh with <see cref="HookRunner"/>'s stand-ins: the samples are signed with the generated key
/// only when the deployment trusts that key. A signer of the operator's own (set before the first azd up, or rotated
/// since) would make every sample a version the apps never serve, and the publish job refuse them, failing azd up.
/// </summary>
public sealed class PublishSamplesHookTests : IDisposable
{
    private readonly HookRunner _hook = new();

    public PublishSamplesHookTests()
    {
        _hook.AzdEnv["AZURE_ENV_NAME"] = "test";
        var keys = Directory.CreateDirectory(Path.Combine(_hook.Directory, ".azure", "test", "keys")).FullName;
        File.WriteAllText(Path.Combine(keys, "model-signing.key.pem"), "generated private key");
        File.WriteAllText(Path.Combine(keys, "model-signing.pub.pem"), "generated public key");
    }

    public void Dispose() => _hook.Dispose();

    [Fact]
    public async Task DeploymentTrustsAnotherSigner_NothingSignedOrPublished_AzdUpGoesOn()
    {
        _hook.AzdEnv["SERVERLESSSERVE_MODEL_SIGNER_PUBLIC_KEY_PEM"] = Convert.ToBase64String("the operator's own public key"u8);

        var run = await _hook.RunAsync("publish-samples.sh");

        Assert.True(run.ExitCode == 0, run.Output + run.Errors);
        Assert.Contains("trusts a model signer of your own", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Signed", run.Output, StringComparison.Ordinal);
        Assert.Empty(run.AzCalls);
    }
}
