using System.Security.Cryptography;
using System.Text;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Identity;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Policy;
using ServerlessServe.Core.Serving;
using ServerlessServe.Core.Signatures;
using ServerlessServe.Core.Tests.Artifacts;
using ServerlessServe.Core.Tests.Fixtures;
using ServerlessServe.Core.Tests.Protocol;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Core.Tests.Signatures;

/// <summary>The whole check of a signed request — keys and nonces in real tables on Azurite, time from a fake clock.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class RequestSignatureCheckTests(AzuriteFixture azurite) : IDisposable
{
    private const string Subject = "signing-caller";
    private const string KeyId = "laptop-1";
    private const string Target = "/api/v2/models/notes/infer";
    private const string Authorization = "Bearer eyJ.token.value";
    private static readonly DateTimeOffset Start = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"inputs":[{"name":"x","shape":[1],"datatype":"INT64","data":[1]}]}""");
    private static readonly CallerPseudonymizer Pseudonymizer = new(new byte[32]);

    private readonly FakeTimeProvider _time = new(Start);
    private readonly FakeLogger<RequestSignatureCheck> _logger = new();
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly List<IDisposable> _disposables = [];

    public void Dispose()
    {
        _key.Dispose();
        foreach (var disposable in _disposables)
        {
            disposable.Dispose();
        }
    }

    [Fact]
    public async Task Check_Correct_Passes()
    {
        var (check, _) = await NewCheckAsync();

        Assert.Null(await check.CheckAsync(Context(Sign()), Body, default));
    }

    [Fact]
    public async Task Check_SameRequestTwice_SecondIsAReplay()
    {
        var (check, _) = await NewCheckAsync();
        var signed = Sign();

        Assert.Null(await check.CheckAsync(Context(signed), Body, default));
        var refusal = await check.CheckAsync(Context(signed), Body, default);

        AssertRefused(refusal, "replay");
    }

    [Fact]
    public async Task Check_ReplayedOnAnotherInstance_Refused()
    {
        var (first, tables) = await NewCheckAsync();
        var second = NewCheck(tables);
        var signed = Sign();

        Assert.Null(await first.CheckAsync(Context(signed), Body, default));

        AssertRefused(await second.CheckAsync(Context(signed), Body, default), "replay");
    }

    [Fact]
    public async Task Check_NonceReusedAfterItsWindow_AcceptedAgain()
    {
        var (check, _) = await NewCheckAsync();
        Assert.Null(await check.CheckAsync(Context(Sign(nonce: "reused-nonce-0001"), version: "1"), Body, default));

        _time.Advance(TimeSpan.FromMinutes(6));

        // The first entity has expired but is still in the table (no cleanup ran): it does not block the nonce.
        Assert.Null(await check.CheckAsync(Context(Sign(created: _time.GetUtcNow(), nonce: "reused-nonce-0001"), version: "1"), Body, default));
        AssertRefused(await check.CheckAsync(Context(Sign(created: _time.GetUtcNow(), nonce: "reused-nonce-0001"), version: "1"), Body, default), "replay");
    }

    /// <summary>
    /// The window is checked in whole seconds, so a request passes it until a second after created + maxAge. With no
    /// clock skew allowed its nonce expired at created + maxAge, and a replay in that last half second was accepted
    /// (review, 2026-12-07).
    /// </summary>
    [Fact]
    public async Task Check_ReplayedInTheWindowsLastSecondWithNoSkew_StillAReplay()
    {
        var (check, _) = await NewCheckAsync(new SignatureOptions { ClockSkew = TimeSpan.Zero });
        var signed = Sign();
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(await check.CheckAsync(Context(signed, version: "1"), Body, default));

        _time.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(1) + TimeSpan.FromMilliseconds(500));

        AssertRefused(await check.CheckAsync(Context(signed, version: "1"), Body, default), "replay");
    }

    [Fact]
    public async Task Check_UnpinnedRequestReplayedAfterLatestGainsALongerWindow_StillAReplay()
    {
        // Signed to the unpinned route while "latest" allows 5 minutes; a version allowing an hour becomes latest, and
        // the captured request is sent again 10 minutes later: inside the new window, so only the nonce can stop it.
        var (check, _) = await NewCheckAsync();
        var signed = Sign(nonce: "captured-nonce-01");
        Assert.Null(await check.CheckAsync(Context(signed), Body, default));

        _time.Advance(TimeSpan.FromMinutes(10));

        AssertRefused(await check.CheckAsync(Context(signed, maxAge: TimeSpan.FromHours(1)), Body, default), "replay");
    }

    [Fact]
    public async Task Check_KeyTableUnreadablePastMaxStaleness_UnavailableUntilARead()
    {
        var table = azurite.GetTable("keys");
        var tables = await TablesWithTheKeyAsync(table);
        var (check, registry) = NewCheckWithRegistry(tables);
        await registry.RefreshAsync(default);

        // The table goes away (the key with it), and every read fails from now on.
        await table.DeleteAsync();
        var failed = await Assert.ThrowsAnyAsync<Exception>(() => registry.RefreshAsync(default));
        registry.RefreshFailed(failed);

        // Within the staleness allowed the last view serves...
        _time.Advance(TimeSpan.FromMinutes(4));
        Assert.Null(await check.CheckAsync(Context(Sign(created: _time.GetUtcNow())), Body, default));

        // ...past it, the key it holds may have been revoked: refused as unavailable, not verified.
        _time.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        var refusal = await check.CheckAsync(Context(Sign(created: _time.GetUtcNow())), Body, default);
        Assert.Equal(RefusalKind.Unavailable, refusal?.Kind);
        Assert.Equal("key_store_unavailable", refusal?.Reason);

        // A good read ends it.
        await TablesWithTheKeyAsync(table);
        await registry.RefreshAsync(default);
        Assert.Null(await check.CheckAsync(Context(Sign(created: _time.GetUtcNow())), Body, default));
    }

    [Fact]
    public async Task Refresh_ARowOfTheWrongShape_SkippedAndTheOtherKeysRead()
    {
        var table = azurite.GetTable("keys");
        var tables = await TablesWithTheKeyAsync(table);
        await table.AddEntityAsync(new Azure.Data.Tables.TableEntity(Pseudonymizer.Pseudonymize("someone-else"), "hand-written") { ["Spki"] = "not binary" });
        var (check, registry) = NewCheckWithRegistry(tables);

        await registry.RefreshAsync(default);

        Assert.Equal(1, registry.Count);
        Assert.Null(await check.CheckAsync(Context(Sign()), Body, default));
    }

    [Fact]
    public async Task Check_CredentialFailsToGetAToken_UnavailableNot500()
    {
        // A real credential whose token authority refuses the connection (loopback, port 9): the table client throws
        // Azure.Identity's AuthenticationFailedException, not a RequestFailedException.
        var credentialOptions = new Azure.Identity.ClientSecretCredentialOptions { AuthorityHost = new Uri("https://127.0.0.1:9/") };
        credentialOptions.Retry.MaxRetries = 0;
        var credential = new Azure.Identity.ClientSecretCredential("00000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-000000000001", "secret", credentialOptions);
        var tableOptions = new TableClientOptions();
        tableOptions.Retry.MaxRetries = 0;
        var service = new TableServiceClient(new Uri("https://127.0.0.1:9/devstoreaccount1"), credential, tableOptions);
        var keys = new RequestKeyStore(service.GetTableClient("keys"));
        var nonces = new NonceStore(service.GetTableClient("nonces"));
        var check = NewCheck((keys, nonces));

        var refusal = await check.CheckAsync(Context(Sign()), Body, default);

        Assert.Equal(RefusalKind.Unavailable, refusal?.Kind);
        Assert.Equal("key_store_unavailable", refusal?.Reason);
    }

    [Fact]
    public async Task Cleanup_ExpiredNonces_DeletedAndUnexpiredKept()
    {
        var nonces = new NonceStore(azurite.GetTable("nonces"));
        await nonces.CreateIfNotExistsAsync();
        Assert.True(await nonces.TryRecordAsync("ab", "k", "expired-nonce-000", Start.AddMinutes(-1), Start.AddMinutes(-6)));
        Assert.True(await nonces.TryRecordAsync("ab", "k", "current-nonce-000", Start.AddMinutes(5), Start));

        await new NonceCleanup(nonces, _time, new FakeLogger<NonceCleanup>()).RunOnceAsync(default);

        Assert.False(await nonces.TryRecordAsync("ab", "k", "current-nonce-000", Start.AddMinutes(5), Start));
        Assert.Equal(0, await nonces.DeleteExpiredAsync(Start));
        Assert.Equal(1, await nonces.DeleteExpiredAsync(Start.AddMinutes(6)));
    }

    [Fact]
    public async Task Check_CreatedBeyondMaxAge_Stale()
    {
        var (check, _) = await NewCheckAsync();
        var signed = Sign(created: Start - TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(1));

        AssertRefused(await check.CheckAsync(Context(signed), Body, default), "stale");
    }

    [Fact]
    public async Task Check_CreatedAtTheEdgeOfMaxAge_Passes()
    {
        var (check, _) = await NewCheckAsync();

        Assert.Null(await check.CheckAsync(Context(Sign(created: Start - TimeSpan.FromMinutes(5))), Body, default));
    }

    [Fact]
    public async Task Check_CreatedAheadBeyondTheSkew_Stale()
    {
        var (check, _) = await NewCheckAsync();

        AssertRefused(await check.CheckAsync(Context(Sign(created: Start + TimeSpan.FromSeconds(31))), Body, default), "stale");
        Assert.Null(await check.CheckAsync(Context(Sign(created: Start + TimeSpan.FromSeconds(30))), Body, default));
    }

    [Fact]
    public async Task Check_BodyAltered_DigestMismatch()
    {
        var (check, _) = await NewCheckAsync();
        var altered = Body.ToArray();
        altered[^4] = (byte)'2';

        AssertRefused(await check.CheckAsync(Context(Sign()), altered, default), "digest_mismatch");
    }

    [Fact]
    public async Task Check_BodyInSeveralBuffers_DigestTakenWhereItLies()
    {
        // The gateway keeps a binary body in the buffers it arrived in: the digest is taken over them, unjoined.
        var (check, _) = await NewCheckAsync();
        var altered = Body.ToArray();
        altered[^4] = (byte)'2';

        Assert.Null(await check.CheckAsync(Context(Sign()), Segments.Split(Body, seed: 3, maxPiece: 5), default));
        AssertRefused(await check.CheckAsync(Context(Sign()), Segments.Split(altered, seed: 3, maxPiece: 5), default), "digest_mismatch");
    }

    [Fact]
    public async Task Check_BodyAndDigestReplaced_SignatureInvalid()
    {
        var (check, _) = await NewCheckAsync();
        var altered = Body.ToArray();
        altered[^4] = (byte)'2';
        var signed = Sign() with { ContentDigest = ContentDigest.Compute(altered) };

        AssertRefused(await check.CheckAsync(Context(signed), altered, default), "signature_invalid");
    }

    public static TheoryData<string, Func<SignedRequest, SignedRequest>> Tampered() => new()
    {
        { "another method", s => s with { Method = "PUT" } },
        { "another model", s => s with { Target = "/api/v2/models/other/infer" } },
        { "another host", s => s with { Authority = "evil.example" } },
        { "another token", s => s with { Authorization = "Bearer eyJ.other.token" } },
        { "no token", s => s with { Authorization = null } },
    };

    [Theory]
    [MemberData(nameof(Tampered))]
    public async Task Check_CoveredPartChanged_SignatureInvalid(string change, Func<SignedRequest, SignedRequest> tamper)
    {
        var (check, _) = await NewCheckAsync();

        var refusal = await check.CheckAsync(Context(tamper(Sign())), Body, default);

        Assert.True(refusal?.Reason == "signature_invalid", change);
    }

    [Fact]
    public async Task Check_SignedByAnUnregisteredKey_UnknownKey()
    {
        var (check, _) = await NewCheckAsync();
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        AssertRefused(await check.CheckAsync(Context(Sign(key: other, keyId: "not-registered")), Body, default), "unknown_key");
    }

    [Fact]
    public async Task Check_AnotherCallersKey_UnknownKey()
    {
        var (check, _) = await NewCheckAsync();

        AssertRefused(await check.CheckAsync(Context(Sign(), subject: "someone-else"), Body, default), "unknown_key");
    }

    [Fact]
    public async Task Check_KeyRegisteredAfterStart_FoundWithoutARefresh_RevokedGoneAfterOne()
    {
        var tables = NewTables();
        var (store, nonces) = tables;
        await store.CreateIfNotExistsAsync();
        await nonces.CreateIfNotExistsAsync();
        var (check, registry) = NewCheckWithRegistry(tables);
        await registry.RefreshAsync(default);
        await store.RegisterAsync(Pseudonymizer.Pseudonymize(Subject), KeyId, _key.ExportSubjectPublicKeyInfo(), null);

        Assert.Null(await check.CheckAsync(Context(Sign()), Body, default));

        Assert.True(await store.RevokeAsync(Pseudonymizer.Pseudonymize(Subject), KeyId));
        await registry.RefreshAsync(default);
        _time.Advance(TimeSpan.FromSeconds(2));
        AssertRefused(await check.CheckAsync(Context(Sign()), Body, default), "unknown_key");
    }

    [Fact]
    public async Task Check_UnknownKeyIds_TheTableReadAtMostOncePerCallerPerInterval()
    {
        var tables = NewTables();
        await tables.Keys.CreateIfNotExistsAsync();
        await tables.Nonces.CreateIfNotExistsAsync();
        var (check, registry) = NewCheckWithRegistry(tables);
        await registry.RefreshAsync(default);
        AssertRefused(await check.CheckAsync(Context(Sign()), Body, default), "unknown_key");

        // Registered now: within the interval this caller's unknown key ids are not read again...
        await tables.Keys.RegisterAsync(Pseudonymizer.Pseudonymize(Subject), KeyId, _key.ExportSubjectPublicKeyInfo(), null);
        AssertRefused(await check.CheckAsync(Context(Sign()), Body, default), "unknown_key");

        // ...after it, the next request reads the entry and is served.
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(await check.CheckAsync(Context(Sign(created: _time.GetUtcNow())), Body, default));
    }

    [Fact]
    public async Task Check_ExpiredKey_UnknownKey()
    {
        var (store, nonces) = NewTables();
        await store.CreateIfNotExistsAsync();
        await nonces.CreateIfNotExistsAsync();
        await store.RegisterAsync(Pseudonymizer.Pseudonymize(Subject), KeyId, _key.ExportSubjectPublicKeyInfo(), Start.AddSeconds(-1));
        var check = NewCheck((store, nonces));

        AssertRefused(await check.CheckAsync(Context(Sign()), Body, default), "unknown_key");
    }

    [Fact]
    public async Task Check_NoSignatureHeaders_Missing()
    {
        var (check, _) = await NewCheckAsync();

        AssertRefused(await check.CheckAsync(Context(null), Body, default), "signature_missing");
        AssertRefused(await check.CheckAsync(Context(Sign() with { ContentDigest = null }), Body, default), "signature_missing");
    }

    [Fact]
    public async Task Check_PolicyWithoutSignatures_PassesUnsignedAndClearsTheMaterial()
    {
        var (check, _) = await NewCheckAsync();
        var context = Context(Sign(), required: false);

        Assert.Null(await check.CheckAsync(context, Body, default));
        Assert.Null(context.Signed);
    }

    [Fact]
    public async Task Check_ReplayStoreUnreachable_UnavailableNotPassed()
    {
        var (store, _) = NewTables();
        await store.CreateIfNotExistsAsync();
        await store.RegisterAsync(Pseudonymizer.Pseudonymize(Subject), KeyId, _key.ExportSubjectPublicKeyInfo(), null);
        var options = new TableClientOptions();
        options.Retry.MaxRetries = 0;
        var unreachable = new NonceStore(new TableServiceClient(new Uri("http://127.0.0.1:9/devstoreaccount1"), new TableSharedKeyCredential("devstoreaccount1", Convert.ToBase64String(new byte[64])), options).GetTableClient("nonces"));
        var check = NewCheck((store, unreachable));

        var refusal = await check.CheckAsync(Context(Sign()), Body, default);

        Assert.Equal(RefusalKind.Unavailable, refusal?.Kind);
        Assert.Equal("replay_store_unavailable", refusal?.Reason);
    }

    [Fact]
    public async Task Check_Refused_LogNamesTheReasonAndNothingOfTheRequest()
    {
        var (check, _) = await NewCheckAsync();
        var signed = Sign(nonce: "nonce-that-must-not-be-logged");
        await check.CheckAsync(Context(signed), Body, default);

        await check.CheckAsync(Context(signed), Body, default);

        var line = Assert.Single(_logger.Collector.GetSnapshot(), r => r.Id.Id == 2100);
        Assert.Contains("replay", line.Message, StringComparison.Ordinal);
        foreach (var secret in new[] { "nonce-that-must-not-be-logged", KeyId, Subject, "eyJ", signed.Signature![6..20] })
        {
            Assert.DoesNotContain(_logger.Collector.GetSnapshot(), r => r.Message.Contains(secret, StringComparison.Ordinal));
        }
    }

    private static void AssertRefused(Refusal? refusal, string reason)
    {
        Assert.NotNull(refusal);
        Assert.Equal(reason, refusal.Reason);
        Assert.Equal(Refusal.InvalidToken.Kind, refusal.Kind);
        Assert.Equal(Refusal.InvalidToken.Message, refusal.Message);
        Assert.Equal("refused:unauthenticated:" + reason, refusal.Verdict);
    }

    private SignedRequest Sign(DateTimeOffset? created = null, string? nonce = null, ECDsa? key = null, string keyId = KeyId)
    {
        var headers = RequestSigner.Sign(key ?? _key, keyId, "POST", "http://127.0.0.1:7071" + Target, Body, Authorization, created ?? Start, nonce);
        return new SignedRequest("POST", "http", "127.0.0.1:7071", Target, headers.SignatureInput, headers.Signature, headers.ContentDigest, Authorization);
    }

    private static ModelRequestContext Context(SignedRequest? signed, string subject = Subject, bool required = true, string? version = null, TimeSpan? maxAge = null)
    {
        var policy = required ? new SignaturePolicy { Required = true, MaxAge = maxAge ?? TimeSpan.FromMinutes(5) } : null;
        var package = TestPackages.CustomerNotes(CustomerNotesSample.Name, "1");
        var model = new VerifiedModelVersion(package.Manifest, package.ManifestDigest, PolicyLoader.Parse(SampleModels.GetPolicy(CustomerNotesSample.Name)) with { Signatures = policy });
        return new ModelRequestContext("req-" + Guid.NewGuid().ToString("N")[..8], "notes", version)
        {
            Caller = new CallerIdentity(subject, []),
            Model = model,
            Signed = signed,
        };
    }

    // The key table over <paramref name="keyTable"/> (created, the caller's key registered) and a new nonce table.
    private async Task<(RequestKeyStore Keys, NonceStore Nonces)> TablesWithTheKeyAsync(TableClient keyTable)
    {
        var tables = (Keys: new RequestKeyStore(keyTable), Nonces: new NonceStore(azurite.GetTable("nonces")));
        await tables.Keys.CreateIfNotExistsAsync();
        await tables.Nonces.CreateIfNotExistsAsync();
        await tables.Keys.RegisterAsync(Pseudonymizer.Pseudonymize(Subject), KeyId, _key.ExportSubjectPublicKeyInfo(), null);
        return tables;
    }

    private (RequestKeyStore Keys, NonceStore Nonces) NewTables() =>
        (new RequestKeyStore(azurite.GetTable("keys")), new NonceStore(azurite.GetTable("nonces")));

    private async Task<(RequestSignatureCheck Check, (RequestKeyStore, NonceStore) Tables)> NewCheckAsync(SignatureOptions? settings = null)
    {
        var tables = NewTables();
        await tables.Keys.CreateIfNotExistsAsync();
        await tables.Nonces.CreateIfNotExistsAsync();
        await tables.Keys.RegisterAsync(Pseudonymizer.Pseudonymize(Subject), KeyId, _key.ExportSubjectPublicKeyInfo(), null);
        var (check, registry) = NewCheckWithRegistry(tables, settings);
        await registry.RefreshAsync(default);
        return (check, tables);
    }

    private RequestSignatureCheck NewCheck((RequestKeyStore Keys, NonceStore Nonces) tables) => NewCheckWithRegistry(tables).Check;

    private (RequestSignatureCheck Check, RequestKeyRegistry Registry) NewCheckWithRegistry((RequestKeyStore Keys, NonceStore Nonces) tables, SignatureOptions? settings = null)
    {
        var options = Options.Create(settings ?? new SignatureOptions());
        var registry = new RequestKeyRegistry(tables.Keys, _time, options, new FakeLogger<RequestKeyRegistry>());
        _disposables.Add(registry);
        return (new RequestSignatureCheck(registry, tables.Nonces, Pseudonymizer, options, _time, _logger), registry);
    }
}
