using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Integration.Tests.Fixtures;
using ServerlessServe.Local;

namespace ServerlessServe.Integration.Tests.Cli;

/// <summary>The real <c>ssctl</c> process against the running stack: keys, tokens, model publish and verify.</summary>
[Collection(StackCollection.Name)]
public sealed class SsctlTests(StackFixture fixture)
{
    [StackFact]
    public async Task KeysCreate_NewFolder_PrivateKeysOwnerOnly()
    {
        var state = Path.Combine(fixture.State.Directory, "keys-test-" + Guid.NewGuid().ToString("N")[..6]);
        var result = await Ssctl.RunAsync(fixture, "keys", "create", "--state", state);
        Assert.True(result.ExitCode == 0, result.Output);
        foreach (var file in new[] { "issuer.key.pem", "issuer-rs256.key.pem", "managed-identity.secret", "model-signing.key.pem", "audit-checkpoint.key.pem", "audit-pseudonym.key" })
        {
            var path = Path.Combine(state, "keys", file);
            Assert.True(File.Exists(path), file);
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            }
        }

        // No service-token key any more: the gateway's tokens come from its managed identity.
        Assert.False(File.Exists(Path.Combine(state, "keys", "service.key.pem")));

        var again = await Ssctl.RunAsync(fixture, "keys", "create", "--state", state);
        Assert.Contains("already existed", again.Output, StringComparison.Ordinal);
    }

    [StackFact]
    public async Task Token_Minted_AcceptedByGateway()
    {
        var result = await Ssctl.RunAsync(fixture, "token", "--state", fixture.State.Directory, "--sub", "cli-user");
        Assert.Equal(0, result.ExitCode);
        var token = result.Output.Trim();
        using var client = new HttpClient { BaseAddress = fixture.Stack.GatewayBaseUrl };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await client.GetAsync("v2/models/customer-notes");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [StackFact]
    public async Task ModelPublishAndVerify_ThenManifestAltered_VerifyFails()
    {
        var samples = Path.Combine(fixture.State.Directory, "cli-samples-" + Guid.NewGuid().ToString("N")[..6]);
        var built = await Ssctl.RunAsync(fixture, "model", "samples", samples, "--skip-resnet");
        Assert.True(built.ExitCode == 0, built.Output);
        Assert.False(Directory.Exists(Path.Combine(samples, "resnet18")), built.Output);

        var name = "cli-" + Guid.NewGuid().ToString("N")[..6];
        var connection = fixture.Stack.Azurite.ConnectionString;
        var publish = await Ssctl.RunAsync(fixture, "model", "publish", Path.Combine(samples, "customer-notes", "1"),
            "--name", name, "--version", "1", "--state", fixture.State.Directory, "--connection-string", connection);
        Assert.True(publish.ExitCode == 0, publish.Output);
        Assert.Contains("Published", publish.Output, StringComparison.Ordinal);

        var again = await Ssctl.RunAsync(fixture, "model", "publish", Path.Combine(samples, "customer-notes", "1"),
            "--name", name, "--version", "1", "--state", fixture.State.Directory, "--connection-string", connection);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("already exists", again.Output, StringComparison.Ordinal);

        var verify = await Ssctl.RunAsync(fixture, "model", "verify", name, "--state", fixture.State.Directory, "--connection-string", connection);
        Assert.True(verify.ExitCode == 0, verify.Output);

        // The newly published model is served through the gateway at once.
        using (var response = await fixture.Gateway.PostAsync($"v2/models/{name}/infer", StackFixture.Json("""{"inputs":[{"name":"customer_id","shape":[1],"datatype":"INT64","data":[3]}]}""")))
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, body);
            Assert.Contains("[US_SSN]", body, StringComparison.Ordinal);
        }

        // Revoked, the version is not "ok": verify reads the revocation list in force, as the instances do (it did not
        // before 2026-12-07, so after a compromise the versions to distrust looked trusted).
        var revoke = await Ssctl.RunAsync(fixture, "model", "revoke", name, "1", "--state", fixture.State.Directory, "--connection-string", connection);
        Assert.True(revoke.ExitCode == 0, revoke.Output);
        var revoked = await Ssctl.RunAsync(fixture, "model", "verify", name, "--state", fixture.State.Directory, "--connection-string", connection);
        Assert.Equal(1, revoked.ExitCode);
        Assert.Contains("revoked", Flat(revoked.Output), StringComparison.Ordinal);

        var manifest = fixture.Blobs.GetBlobContainerClient(ModelStoreLayout.DefaultContainerName).GetBlobClient(ModelStoreLayout.ManifestPath(name, "1"));
        var text = (await manifest.DownloadContentAsync()).Value.Content.ToString();
        await manifest.UploadAsync(BinaryData.FromString(text.Replace("\"1\"", "\"1\" ", StringComparison.Ordinal)), overwrite: true);
        var tampered = await Ssctl.RunAsync(fixture, "model", "verify", name, "--state", fixture.State.Directory, "--connection-string", connection);
        Assert.Equal(1, tampered.ExitCode);
    }

    [StackFact]
    public async Task PackThenPublishPackages_NoSigningKeyWhereItPublishes_TamperedAndForeignPackagesRefused()
    {
        var work = Path.Combine(fixture.State.Directory, "cli-packages-" + Guid.NewGuid().ToString("N")[..6]);
        var samples = Path.Combine(work, "samples");
        var built = await Ssctl.RunAsync(fixture, "model", "samples", samples, "--skip-resnet");
        Assert.True(built.ExitCode == 0, built.Output);
        var name = "pkg-" + Guid.NewGuid().ToString("N")[..6];
        var packages = Directory.CreateDirectory(Path.Combine(work, "packages")).FullName;
        var packed = await Ssctl.RunAsync(fixture, "model", "pack", Path.Combine(samples, "customer-notes", "1"),
            "--name", name, "--version", "1", "--state", fixture.State.Directory, "--out", Path.Combine(packages, $"{name}-1.zip"));
        Assert.True(packed.ExitCode == 0, packed.Output);

        // Where packages are published, only the signer's public key is given.
        var trusted = File.ReadAllText(Path.Combine(fixture.State.Directory, "keys", "model-signing.pub.pem"));
        var connection = fixture.Stack.Azurite.ConnectionString;
        var publish = await Ssctl.RunAsync(fixture, "model", "publish-packages", packages, "--trusted-key-pem", trusted, "--connection-string", connection);
        Assert.True(publish.ExitCode == 0, publish.Output);
        Assert.Contains($"Published {name} 1", publish.Output, StringComparison.Ordinal);
        using (var response = await fixture.Gateway.PostAsync($"v2/models/{name}/infer", StackFixture.Json("""{"inputs":[{"name":"customer_id","shape":[1],"datatype":"INT64","data":[3]}]}""")))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // A rerun (the job started again) skips what is there.
        var again = await Ssctl.RunAsync(fixture, "model", "publish-packages", packages, "--trusted-key-pem", trusted, "--connection-string", connection);
        Assert.True(again.ExitCode == 0, again.Output);
        Assert.Contains($"Skipped {name} 1: already published", again.Output, StringComparison.Ordinal);

        // A package changed after signing, and one signed by a key that is not trusted, are refused and not stored.
        var tampered = Directory.CreateDirectory(Path.Combine(work, "tampered")).FullName;
        var tamperedZip = Path.Combine(tampered, "t.zip");
        await Ssctl.RunAsync(fixture, "model", "pack", Path.Combine(samples, "customer-notes", "1"), "--name", name + "t", "--version", "1", "--state", fixture.State.Directory, "--out", tamperedZip);
        using (var zip = System.IO.Compression.ZipFile.Open(tamperedZip, System.IO.Compression.ZipArchiveMode.Update))
        {
            var policy = zip.GetEntry(ModelStoreLayout.PolicyFile)!;
            string text;
            using (var reader = new StreamReader(policy.Open()))
            {
                text = await reader.ReadToEndAsync();
            }

            policy.Delete();
            using var writer = new StreamWriter(zip.CreateEntry(ModelStoreLayout.PolicyFile).Open());
            await writer.WriteAsync(text + " ");
        }

        var otherState = Path.Combine(work, "other-signer");
        Assert.Equal(0, (await Ssctl.RunAsync(fixture, "keys", "create", "--state", otherState)).ExitCode);
        await Ssctl.RunAsync(fixture, "model", "pack", Path.Combine(samples, "customer-notes", "1"), "--name", name + "f", "--version", "1", "--state", otherState, "--out", Path.Combine(tampered, "f.zip"));
        var refused = await Ssctl.RunAsync(fixture, "model", "publish-packages", tampered, "--trusted-key-pem", trusted, "--connection-string", connection);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("Refused f.zip: signature", refused.Output, StringComparison.Ordinal);
        Assert.Contains("Refused t.zip: digest", refused.Output, StringComparison.Ordinal);
        var models = fixture.Blobs.GetBlobContainerClient(ModelStoreLayout.DefaultContainerName);
        Assert.False(await models.GetBlobClient(ModelStoreLayout.ManifestPath(name + "t", "1")).ExistsAsync());
        Assert.False(await models.GetBlobClient(ModelStoreLayout.ManifestPath(name + "f", "1")).ExistsAsync());

        // A signer the revocation list in force revokes publishes nothing, even where its key is still trusted (a key
        // rotation under way); and that key cannot revoke itself unasked. Before 2026-12-07 publish-packages stored it.
        var otherPublic = Path.Combine(otherState, "keys", "model-signing.pub.pem");
        var localPublic = Path.Combine(fixture.State.Directory, "keys", "model-signing.pub.pem");
        string otherKeyId;
        using (var otherKey = Core.Artifacts.SigningKeys.ImportPem(File.ReadAllText(otherPublic)))
        {
            otherKeyId = Core.Artifacts.KeyIds.Compute(otherKey);
        }

        var self = await Ssctl.RunAsync(fixture, "model", "revoke-signer", otherKeyId, "--state", otherState, "--trusted-key", localPublic, "--trusted-key", otherPublic, "--connection-string", connection);
        Assert.Equal(1, self.ExitCode);
        Assert.Contains("the signing key's own", Flat(self.Output), StringComparison.Ordinal);
        var revokeOther = await Ssctl.RunAsync(fixture, "model", "revoke-signer", otherKeyId, "--state", fixture.State.Directory, "--trusted-key", localPublic, "--trusted-key", otherPublic, "--connection-string", connection);
        Assert.True(revokeOther.ExitCode == 0, revokeOther.Output);
        var revokedSigner = await Ssctl.RunAsync(fixture, "model", "publish-packages", tampered, "--trusted-key-pem", trusted, "--trusted-key-pem", File.ReadAllText(otherPublic), "--connection-string", connection);
        Assert.Equal(1, revokedSigner.ExitCode);
        Assert.Contains($"Refused f.zip: the signing key {otherKeyId} is revoked", Flat(revokedSigner.Output), StringComparison.Ordinal);
        Assert.False(await models.GetBlobClient(ModelStoreLayout.ManifestPath(name + "f", "1")).ExistsAsync());

        // Given only the revoked key, the list that revokes it does not verify: nothing is published without it.
        var oneKey = await Ssctl.RunAsync(fixture, "model", "publish-packages", tampered, "--trusted-key-pem", File.ReadAllText(otherPublic), "--connection-string", connection);
        Assert.Equal(1, oneKey.ExitCode);
        Assert.Contains("does not verify with the trusted keys given", Flat(oneKey.Output), StringComparison.Ordinal);
        Assert.False(await models.GetBlobClient(ModelStoreLayout.ManifestPath(name + "f", "1")).ExistsAsync());

        // Training data named .gz that is not gzip: a clear refusal, not a stack trace.
        var notGzip = Path.Combine(work, "rows.csv.gz");
        await File.WriteAllTextAsync(notGzip, "1,2,3\n");
        var badData = await Ssctl.RunAsync(fixture, "model", "pack", Path.Combine(samples, "credit-risk", "1"), "--name", name + "g", "--version", "1", "--state", fixture.State.Directory, "--training-data", notGzip, "--out", Path.Combine(work, "g.zip"));
        Assert.Equal(1, badData.ExitCode);
        Assert.Contains("Cannot package", Flat(badData.Output), StringComparison.Ordinal);

        var unverified = await Ssctl.RunAsync(fixture, "model", "publish-packages", packages, "--connection-string", connection);
        Assert.Equal(1, unverified.ExitCode);
        Assert.Contains("No trusted signer", unverified.Output, StringComparison.Ordinal);

        // Another model's files packed under a version already stored: not "skipped", since what is stored is not
        // what the package says.
        var other = Directory.CreateDirectory(Path.Combine(work, "other-content")).FullName;
        Assert.Equal(0, (await Ssctl.RunAsync(fixture, "model", "pack", Path.Combine(samples, "credit-risk", "1"), "--name", name, "--version", "1", "--state", fixture.State.Directory, "--out", Path.Combine(other, "o.zip"))).ExitCode);
        var clash = await Ssctl.RunAsync(fixture, "model", "publish-packages", other, "--trusted-key-pem", trusted, "--connection-string", connection);
        Assert.Equal(1, clash.ExitCode);
        Assert.Contains($"Failed {name} 1: the version is stored with other content", clash.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// Signed documents and versions that no instance would take are not published: a signing key outside the trusted
    /// set, a trusted-key file that is not there, Azure storage without the deployment's signers, and a change that
    /// would start below a newer document the given keys cannot verify (an instance trusting its signer would lose it).
    /// </summary>
    [StackFact]
    public async Task SignedPublishes_ThatInstancesWouldRefuseOrThatWouldDropChanges_NotPublished()
    {
        var work = Path.Combine(fixture.State.Directory, "cli-signing-" + Guid.NewGuid().ToString("N")[..6]);
        var otherState = Path.Combine(work, "other-signer");
        Assert.Equal(0, (await Ssctl.RunAsync(fixture, "keys", "create", "--state", otherState)).ExitCode);
        var otherKey = Path.Combine(otherState, "keys", "model-signing.key.pem");
        var otherPublic = Path.Combine(otherState, "keys", "model-signing.pub.pem");
        var localPublic = Path.Combine(fixture.State.Directory, "keys", "model-signing.pub.pem");
        var connection = fixture.Stack.Azurite.ConnectionString;
        var model = "signing-" + Guid.NewGuid().ToString("N")[..8];
        string[] local = ["--state", fixture.State.Directory, "--connection-string", connection];

        // Versions 2 and 3, published with the local (trusted) key: a lifecycle change names a version that exists.
        var samples = Path.Combine(work, "samples");
        Assert.Equal(0, (await Ssctl.RunAsync(fixture, "model", "samples", samples, "--skip-resnet")).ExitCode);
        foreach (var published in new[] { "2", "3" })
        {
            var publish = await Ssctl.RunAsync(fixture, ["model", "publish", Path.Combine(samples, "credit-risk", "1"), "--name", model, "--version", published, .. local]);
            Assert.True(publish.ExitCode == 0, publish.Output);
        }

        // A version that does not exist (a typo): nothing signed or published, rather than a state waiting, unseen, for
        // a version published later under that number.
        var typo = await Ssctl.RunAsync(fixture, ["model", "lifecycle", "retire", model, "9", .. local]);
        Assert.Equal(1, typo.ExitCode);
        Assert.Contains(model + " 9 does not exist", Flat(typo.Output), StringComparison.Ordinal);

        var untrusted = await Ssctl.RunAsync(fixture, ["model", "lifecycle", "retire", model, "2", "--signing-key", otherKey, .. local]);
        Assert.Equal(1, untrusted.ExitCode);
        Assert.Contains("is not one of the trusted keys", Flat(untrusted.Output), StringComparison.Ordinal);

        var version = await Ssctl.RunAsync(fixture, ["model", "publish", Path.Combine(samples, "credit-risk", "1"), "--name", model, "--version", "1", "--signing-key", otherKey, .. local]);
        Assert.Equal(1, version.ExitCode);
        Assert.Contains("is not one of the trusted keys", Flat(version.Output), StringComparison.Ordinal);
        Assert.False(await fixture.Blobs.GetBlobContainerClient(ModelStoreLayout.DefaultContainerName).GetBlobClient(ModelStoreLayout.SignaturePath(model, "1")).ExistsAsync());

        var missing = await Ssctl.RunAsync(fixture, "model", "revocations", "--trusted-key", Path.Combine(work, "no-such-key.pem"), "--connection-string", connection);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("file not found", Flat(missing.Output), StringComparison.Ordinal);

        var remote = await Ssctl.RunAsync(TimeSpan.FromMinutes(1), "model", "revoke", model, "1", "--blob-uri", "https://example.blob.core.windows.net");
        Assert.NotEqual(0, remote.ExitCode);
        Assert.Contains("--blob-uri needs --trusted-key", Flat(remote.Output), StringComparison.Ordinal);

        // The other signer, trusted alongside the local one, retires version 2; the local key alone cannot verify that
        // document, so a change made from what it can see is refused, and shown as skipped.
        var both = await Ssctl.RunAsync(fixture, ["model", "lifecycle", "retire", model, "2", "--signing-key", otherKey, "--trusted-key", localPublic, "--trusted-key", otherPublic, .. local]);
        Assert.True(both.ExitCode == 0, both.Output);
        var partial = await Ssctl.RunAsync(fixture, ["model", "lifecycle", "deprecate", model, "3", "--until", "2099-01-01T00:00:00Z", .. local]);
        Assert.Equal(1, partial.ExitCode);
        Assert.Contains("lifecycle document 1 of " + model + " does not verify with the trusted keys", Flat(partial.Output), StringComparison.Ordinal);
        var shown = await Ssctl.RunAsync(fixture, ["model", "lifecycle", "show", model, .. local]);
        Assert.Contains("warning: lifecycle document 1 skipped: no trusted key verifies the signature", Flat(shown.Stderr), StringComparison.Ordinal);
        var full = await Ssctl.RunAsync(fixture, ["model", "lifecycle", "deprecate", model, "3", "--until", "2099-01-01T00:00:00Z", "--trusted-key", localPublic, "--trusted-key", otherPublic, .. local]);
        Assert.True(full.ExitCode == 0, full.Output);
        shown = await Ssctl.RunAsync(fixture, ["model", "lifecycle", "show", model, "--trusted-key", localPublic, "--trusted-key", otherPublic, .. local]);
        Assert.Contains("lifecycle 2", Flat(shown.Stdout), StringComparison.Ordinal);
    }

    /// <summary>A token never leaves over plain http to a remote gateway, and a lifetime the gateway would refuse is not minted.</summary>
    [StackFact]
    public async Task Usage_TokensInClearTextOrWithLifetimesRefused()
    {
        var clear = await Ssctl.RunAsync(TimeSpan.FromMinutes(1), "job", "status", "some-job", "--url", "http://gateway.example.com/api/", "--token", "not-sent");
        Assert.Equal(2, clear.ExitCode);
        Assert.Contains("use https, a bearer token is never sent in clear text", Flat(clear.Output), StringComparison.Ordinal);

        // A key pair is written whole or not at all: the public half failing leaves no private key behind to block a rerun.
        var keyFolder = Directory.CreateDirectory(Path.Combine(fixture.State.Directory, "cli-request-key-" + Guid.NewGuid().ToString("N")[..6])).FullName;
        Directory.CreateDirectory(Path.Combine(keyFolder, "request.key.pub.pem"));
        var halfWritten = await Ssctl.RunAsync(fixture, "keys", "create-request-key", "--out", Path.Combine(keyFolder, "request.key.pem"));
        Assert.Equal(1, halfWritten.ExitCode);
        Assert.False(File.Exists(Path.Combine(keyFolder, "request.key.pem")));
        Assert.Empty(Directory.GetFiles(keyFolder));

        // A request key's expiry in the past would replace the key registered under its id with one already expired.
        var past = await Ssctl.RunAsync(fixture, "keys", "register-request-key", "--subject", "expired-" + Guid.NewGuid().ToString("N")[..6], "--public-key", Path.Combine(fixture.State.Directory, "keys", "model-signing.pub.pem"), "--key-id", "k1", "--expires", "2000-01-01T00:00:00", "--state", fixture.State.Directory, "--connection-string", fixture.Stack.Azurite.ConnectionString);
        Assert.NotEqual(0, past.ExitCode);
        Assert.Contains("--expires must be in the future", Flat(past.Output), StringComparison.Ordinal);

        foreach (var lifetime in new[] { "00:00:00", "-01:00:00", "25:00:00" })
        {
            var minted = await Ssctl.RunAsync(fixture, "token", "--state", fixture.State.Directory, "--lifetime", lifetime);
            Assert.Equal(1, minted.ExitCode);
            Assert.Contains("--lifetime must be more than zero and at most 24:00:00", Flat(minted.Output), StringComparison.Ordinal);
        }
    }

    /// <summary>The containment commands refuse what would match nothing, and a subject they cannot pseudonymise as the deployment does.</summary>
    [StackFact]
    public async Task Contain_SubjectsThatWouldMatchNothing_Refused()
    {
        var remote = await Ssctl.RunAsync(TimeSpan.FromMinutes(1), "contain", "block", "--subject", "alice@example.com", "--table-uri", "https://example.table.core.windows.net");
        Assert.Equal(2, remote.ExitCode);
        Assert.Contains("with --table-uri give --pseudonym", remote.Output, StringComparison.Ordinal);

        var signer = await Ssctl.RunAsync(TimeSpan.FromMinutes(1), "contain", "revoke-signer", "sha256:0123");
        Assert.Equal(1, signer.ExitCode);
        Assert.Contains("key-id must be 32 hex digits", signer.Output, StringComparison.Ordinal);

        var quarantine = await Ssctl.RunAsync(TimeSpan.FromMinutes(1), "contain", "quarantine", "Credit Risk", "1");
        Assert.Equal(1, quarantine.ExitCode);
        Assert.Contains("not a model name and version", quarantine.Output, StringComparison.Ordinal);

        // Found in review (2026-12-07): each of these printed a containment and exited 0. A pseudonym in upper case
        // matches no caller; a duration of zero ended at once while replacing, so lifting, the block in force; a token
        // id with a character the table's keys refuse cannot be stored.
        var upper = await Ssctl.RunAsync(TimeSpan.FromMinutes(1), "contain", "block", "--pseudonym", "ABCDEF0123456789ABCDEF0123456789");
        Assert.Equal(1, upper.ExitCode);
        Assert.Contains("--pseudonym must be 32 lower-case hex digits", upper.Output, StringComparison.Ordinal);

        var zero = await Ssctl.RunAsync(TimeSpan.FromMinutes(1), "contain", "block", "--pseudonym", "abcdef0123456789abcdef0123456789", "--for", "00:00:00");
        Assert.Equal(1, zero.ExitCode);
        Assert.Contains("--for must be between 1 second and 365 days", zero.Output, StringComparison.Ordinal);

        var token = await Ssctl.RunAsync(TimeSpan.FromMinutes(1), "contain", "revoke-token", "a/b");
        Assert.Equal(1, token.ExitCode);
        Assert.Contains("token-id must be 1 to 256 visible ASCII characters", token.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// A signer revoked by its key id as typed (upper case) is lifted by the same id as typed: <c>revoke-signer</c>
    /// stores it in lower case, and <c>lift</c> looked for it as typed, answering "no revoked-signer" while it stayed
    /// revoked (review, 2026-12-07). The key id is a fresh one that signed nothing.
    /// </summary>
    [StackFact]
    public async Task Contain_SignerRevokedAndLiftedByTheIdAsTyped()
    {
        var keyId = Guid.NewGuid().ToString("N").ToUpperInvariant();
        string[] table = ["--connection-string", fixture.Stack.Azurite.ConnectionString];

        var revoked = await Ssctl.RunAsync(fixture, ["contain", "revoke-signer", keyId, .. table]);
        Assert.True(revoked.ExitCode == 0, revoked.Output);
        var lifted = await Ssctl.RunAsync(fixture, ["contain", "lift", "revoked-signer", keyId, .. table]);

        Assert.True(lifted.ExitCode == 0, lifted.Output);
        Assert.Contains("lifted revoked-signer on " + keyId.ToLowerInvariant(), lifted.Stdout, StringComparison.Ordinal);
    }

    /// <summary>
    /// <c>ssctl fuzz edge</c> against this lane's gateway finds nothing: no 5xx, no hang, every refusal with the V2 error
    /// body, every accepted job ended <c>completed</c> with a well-formed result per item. Under the Functions host, the
    /// host's own empty 404 to a method no function lists is what the documentation says, and <c>--functions-host</c>
    /// counts it apart; the first 600 cases of this seed hold such methods.
    /// </summary>
    [StackFact]
    public async Task FuzzEdge_FirstCasesOfASeed_FindNothing()
    {
        // A caller of its own, so that what the fuzzer sends counts against nobody else's budget or extraction score.
        var token = fixture.MintCallerToken("fuzz-" + Guid.NewGuid().ToString("N")[..8]);
        string[] arguments =
        [
            "fuzz", "edge", "--cases", "600", "--seed", "20261202", "--parallel", "8", "--max-seconds", "300",
            "--url", fixture.Stack.GatewayBaseUrl.AbsoluteUri, "--token", token,
            "--other-token", fixture.MintCallerToken("fuzz-other-" + Guid.NewGuid().ToString("N")[..8]),
        ];
        var underHost = fixture.Host == AppHost.Functions;
        var result = await Ssctl.RunAsync(fixture, TimeSpan.FromMinutes(5), underHost ? [.. arguments, "--functions-host"] : arguments);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("600 cases in", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("5xx: 0  hangs: 0  refusals without the V2 error body: 0", result.Stdout, StringComparison.Ordinal);
        // One case in eight submits a job; each accepted one is followed to its end on this lane's durable backend.
        var jobs = Regex.Match(result.Stdout, @"jobs followed: (\d+), ended wrong: (\d+)");
        Assert.True(jobs.Success && int.Parse(jobs.Groups[1].Value, CultureInfo.InvariantCulture) > 0 && jobs.Groups[2].Value == "0", result.Stdout);
        // One accepted job in three has its routes probed, as its own caller and as the --other-token caller.
        var routes = Regex.Match(result.Stdout, @"jobs whose routes were probed: (\d+), answered wrong: (\d+)");
        Assert.True(routes.Success && int.Parse(routes.Groups[1].Value, CultureInfo.InvariantCulture) > 0 && routes.Groups[2].Value == "0", result.Stdout);
        Assert.DoesNotContain("no second caller", result.Output, StringComparison.Ordinal);
        var hostAnswers = Regex.Match(result.Stdout, @"no function lists \(expected, not a finding\): (\d+)");
        if (underHost)
        {
            Assert.True(hostAnswers.Success && int.Parse(hostAnswers.Groups[1].Value, CultureInfo.InvariantCulture) > 0, result.Stdout);
        }
        else
        {
            Assert.False(hostAnswers.Success, result.Stdout);
        }
    }

    // Spectre.Console wraps a long line at a word: the message as one line.
    private static string Flat(string text) => Regex.Replace(text, @"\s+", " ");
}
