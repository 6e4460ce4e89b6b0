using System.Globalization;
using System.Text.Json;
using Azure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Admin;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Artifacts.Lifecycle;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Serving.Limits;
using ServerlessServe.Core.Identity;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Security;
using ServerlessServe.Core.Signatures;
using ServerlessServe.Hosting.Http;
using ServerlessServe.Hosting.Options;

namespace ServerlessServe.Hosting.Admin;

/// <summary>
/// The admin plane's routes (<c>/api/manage/...</c>). Every route but health needs a caller token for the admin app's
/// own audience carrying the role <c>Serving.Admin</c>: a bad token gets the one 401, an authenticated caller
/// without the role the one 403 (audited). Every admin action is audited, committed before the response: a read once it
/// has its answer; a change twice — <c>requested</c> before anything changes (audit down: 503, nothing done), then its
/// result (docs/identity.md, "The admin plane").
/// </summary>
public sealed partial class AdminEndpoints
{
    private static readonly Refusal AuditUnavailable = Refusal.Unavailable("audit log unavailable; try again later");
    private static readonly Refusal StorageUnavailable = Refusal.Unavailable("storage unavailable; try again later");
    private static readonly Refusal BadModelName = Refusal.Invalid("invalid model name or version");
    private static readonly Refusal BadRevocation = Refusal.Invalid("give exactly one of tokenId, subject and pseudonym (32 lower-case hex), and a duration between 1 second and 365 days if any");
    private static readonly Refusal BadCaller = Refusal.Invalid("give exactly one of subject and pseudonym (32 lower-case hex), and a duration between 1 second and 365 days if any");

    private readonly AdminGate _gate;
    private readonly AdminAudit _audit;
    private readonly ModelInventory _inventory;

    // Per process: the admin app serves one set of endpoints.
    private static readonly SemaphoreSlim PublishGate = new(1, 1);
    private readonly ModelStore _store;
    private readonly TrustedSigners _signers;
    private readonly OperatorContainment _containment;
    private readonly CallerPseudonymizer _pseudonymizer;
    private readonly AuditReader _reader;
    private readonly AdminCheckpointKeys _checkpointKeys;
    private readonly RequestKeyStore _requestKeys;
    private readonly RateLimitRefusalTally _refusals;
    private readonly AdminOptions _options;
    private readonly TimeSpan _revocationHold;
    private readonly ILogger _logger;

    internal AdminEndpoints(
        AdminGate gate,
        AdminAudit audit,
        ModelInventory inventory,
        ModelStore store,
        TrustedSigners signers,
        OperatorContainment containment,
        CallerPseudonymizer pseudonymizer,
        AuditReader reader,
        AdminCheckpointKeys checkpointKeys,
        RequestKeyStore requestKeys,
        RateLimitRefusalTally refusals,
        IOptions<AdminOptions> options,
        IOptions<CallerAuthOptions> callers,
        ILogger<AdminEndpoints> logger)
    {
        _revocationHold = TokenLifetimes.RevocationFor(callers.Value.MaxTokenLifetime);
        _gate = gate;
        _audit = audit;
        _inventory = inventory;
        _store = store;
        _signers = signers;
        _containment = containment;
        _pseudonymizer = pseudonymizer;
        _reader = reader;
        _checkpointKeys = checkpointKeys;
        _requestKeys = requestKeys;
        _refusals = refusals;
        _options = options.Value;
        _logger = logger;
    }

    /// <summary>Open: says the app is up; reveals nothing.</summary>
    public static IActionResult Health() => V2Results.JsonBody(AdminJson.Health());

    /// <summary>Every model version and its state.</summary>
    public async Task<IActionResult> ListModelsAsync(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (admin, refused) = await AdmitAsync(request, AdminActions.ListModels).ConfigureAwait(false);
        if (admin is null)
        {
            return refused!;
        }

        byte[] body;
        try
        {
            var inForce = await _containment.InForceAsync(request.HttpContext.RequestAborted).ConfigureAwait(false);
            body = AdminJson.Models(await _inventory.ListAsync(null, inForce, request.HttpContext.RequestAborted).ConfigureAwait(false));
        }
        catch (Exception ex) when (IsStorageFailure(ex))
        {
            Log.ReadFailed(_logger, ex, admin.RequestId, admin.Action);
            return await RefuseAsync(admin, StorageUnavailable).ConfigureAwait(false);
        }

        return await ReleaseAsync(admin, AdminOutcomes.Done, V2Results.JsonBody(body)).ConfigureAwait(false);
    }

    /// <summary>
    /// Publishes the signed version in the request body (a zip of model.onnx, policy.json, manifest.json, manifest.sig
    /// and optionally profile.json), verified in full before anything is stored; stored write-once.
    /// </summary>
    public async Task<IActionResult> PublishAsync(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (admin, refused) = await AdmitAsync(request, AdminActions.Publish).ConfigureAwait(false);
        if (admin is null)
        {
            return refused!;
        }

        if (request.ContentLength > _options.MaxPackageBytes)
        {
            return await RefuseAsync(admin, Refusal.TooLarge("package too large")).ConfigureAwait(false);
        }

        if (request.ContentType is not { } contentType || !(contentType.StartsWith("application/zip", StringComparison.OrdinalIgnoreCase) || contentType.StartsWith("application/octet-stream", StringComparison.OrdinalIgnoreCase)))
        {
            return await RefuseAsync(admin, Refusal.UnsupportedMediaType("send the package as application/zip")).ConfigureAwait(false);
        }

        // One publish at a time on an instance: each holds its upload and the package expanded (up to twice
        // MaxPackageBytes), and nothing else bounded how many ran at once (found in review 2026-12-07).
        if (!await PublishGate.WaitAsync(0).ConfigureAwait(false))
        {
            return await RefuseAsync(admin, Refusal.Unavailable("another publish is running on this instance; try again shortly") with { RetryAfter = TimeSpan.FromSeconds(5) }).ConfigureAwait(false);
        }

        try
        {
            return await PublishHeldAsync(request, admin).ConfigureAwait(false);
        }
        finally
        {
            PublishGate.Release();
        }
    }

    private async Task<IActionResult> PublishHeldAsync(HttpRequest request, AdminRequest admin)
    {
        // Sized from the declared length when there is one: a growing buffer doubles, to about 1.25 times the upload
        // at the end, and copies itself each time.
        using var upload = new MemoryStream(request.ContentLength is { } declared and > 0 ? (int)Math.Min(declared, _options.MaxPackageBytes) : 0);
        if (await ReadBoundedAsync(request, upload, _options.MaxPackageBytes, "package too large").ConfigureAwait(false) is { } unread)
        {
            return await RefuseAsync(admin, unread).ConfigureAwait(false);
        }

        upload.Position = 0;
        ModelPackage package;
        try
        {
            var files = await PackageArchive.ReadAsync(upload, _options.MaxPackageBytes, request.HttpContext.RequestAborted).ConfigureAwait(false);
            package = PackageVerifier.Verify(files, _signers);
        }
        catch (ModelVerificationException ex)
        {
            var failure = ex.Failure.ToString().ToLowerInvariant();
            Log.PackageRefused(_logger, admin.RequestId, failure);
            return await RefuseAsync(admin with { Target = Target("check", failure) }, Refusal.Invalid("the package failed verification")).ConfigureAwait(false);
        }

        admin = admin with
        {
            Model = package.Manifest.Name,
            ModelVersion = package.Manifest.Version,
            ManifestDigest = package.ManifestDigest,
            Target = Target("signer", package.Manifest.SignerKeyId),
        };

        // A version stored write-once under a signer the revocation list in force revokes would never serve, and its
        // number could not be used again (ssctl model publish checks the same; found in review, 2026-12-06).
        try
        {
            var revocations = await new ControlStore(_store.Container, _signers).LatestRevocationsAsync(RevocationList.None, request.HttpContext.RequestAborted).ConfigureAwait(false);
            if (revocations.RevokesSigner(package.Manifest.SignerKeyId))
            {
                Log.PackageRefused(_logger, admin.RequestId, "signer_revoked");
                return await RefuseAsync(admin with { Target = Target("check", "signer_revoked") }, Refusal.Invalid("the package's signing key is revoked")).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (IsStorageFailure(ex))
        {
            return await FailedAsync(admin, ex).ConfigureAwait(false);
        }

        if (!await _audit.TryRecordAsync(admin, AdminOutcomes.Requested).ConfigureAwait(false))
        {
            return Respond(admin.RequestId, AuditUnavailable);
        }

        string stored;
        try
        {
            // A retry of a publish that stopped part-way completes the version as first signed: the digest stored is
            // then that manifest's, and it is what the answer and the audit record name.
            stored = await _store.PublishAsync(package, null, CancellationToken.None).ConfigureAwait(false);
        }
        catch (ModelVersionExistsException)
        {
            return await RefuseAsync(admin, Refusal.Invalid("model version already exists; versions are immutable")).ConfigureAwait(false);
        }
        catch (ModelVerificationException ex)
        {
            // What is stored for this version does not verify (a blob of the wrong size or digest under its name): the
            // store is write-once, so no retry can mend it. Before 2026-12-07 this was 503 "try again later", every
            // time (found in review).
            Log.PackageRefused(_logger, admin.RequestId, "stored_version_does_not_verify");
            return await RefuseAsync(admin with { Target = Target("check", ex.Failure.ToString().ToLowerInvariant()) }, Refusal.Invalid("what is stored for this version does not verify and cannot be replaced; publish a new version")).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStorageFailure(ex))
        {
            return await FailedAsync(admin, ex).ConfigureAwait(false);
        }

        admin = admin with { ManifestDigest = stored };

        // The version's state as the model list gives it: a version quarantined ahead, signed by a key revoked through
        // containment, or retired by the lifecycle in force is stored but does not serve. Before 2026-12-07 the answer
        // always said "serving" (found in review). Should that read fail, the publish still happened: "unknown".
        string state;
        try
        {
            var inForce = await _containment.InForceAsync(CancellationToken.None).ConfigureAwait(false);
            state = (await _inventory.StatusOfAsync(package.Manifest.Name, package.Manifest.Version, inForce, CancellationToken.None).ConfigureAwait(false)).State;
        }
        catch (Exception ex) when (IsStorageFailure(ex))
        {
            state = "unknown";
        }

        var body = AdminJson.Published(admin.RequestId, package.Manifest.Name, package.Manifest.Version, stored, package.Manifest.SignerKeyId, state);
        return await ReleaseAsync(admin, AdminOutcomes.Done, V2Results.JsonBody(body, 201)).ConfigureAwait(false);
    }

    /// <summary>Withdraws a model version on every gateway instance until restored.</summary>
    public Task<IActionResult> QuarantineAsync(HttpRequest request, string model, string version) =>
        ModelContainmentAsync(request, AdminActions.Quarantine, model, version);

    /// <summary>Lifts a model version's quarantine.</summary>
    public Task<IActionResult> RestoreAsync(HttpRequest request, string model, string version) =>
        ModelContainmentAsync(request, AdminActions.Restore, model, version);

    /// <summary>Blocks a caller (body: <c>{"subject": "..."}</c> or <c>{"pseudonym": "..."}</c>, optional <c>"duration": "hh:mm:ss"</c>).</summary>
    public async Task<IActionResult> BlockAsync(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (admin, refused) = await AdmitAsync(request, AdminActions.Block).ConfigureAwait(false);
        if (admin is null)
        {
            return refused!;
        }

        var (parsed, unreadBlock) = await ReadTargetAsync(request, allowTokenId: false).ConfigureAwait(false);
        if (parsed is not { } block)
        {
            return await RefuseAsync(admin, unreadBlock ?? BadCaller).ConfigureAwait(false);
        }

        var target = block.Duration is { } d
            ? new Dictionary<string, string>(StringComparer.Ordinal) { ["caller"] = block.Pseudonym!, ["duration"] = d.ToString("c", CultureInfo.InvariantCulture) }
            : Target("caller", block.Pseudonym!);
        return await ChangeAsync(admin with { Target = target }, async () =>
        {
            var entry = await _containment.SetAsync(ContainmentKind.Block, block.Pseudonym!, block.Duration, null, admin.RequestId, CancellationToken.None).ConfigureAwait(false);
            return (entry, true);
        }).ConfigureAwait(false);
    }

    /// <summary>Lifts the block of the caller with pseudonym <paramref name="caller"/>.</summary>
    public async Task<IActionResult> UnblockAsync(HttpRequest request, string caller)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (admin, refused) = await AdmitAsync(request, AdminActions.Unblock).ConfigureAwait(false);
        if (admin is null)
        {
            return refused!;
        }

        if (!IsPseudonym(caller))
        {
            return await RefuseAsync(admin, BadCaller).ConfigureAwait(false);
        }

        return await ChangeAsync(admin with { Target = Target("caller", caller) }, async () =>
            ((ContainmentEntry?)null, await _containment.LiftAsync(ContainmentKind.Block, caller, CancellationToken.None).ConfigureAwait(false))).ConfigureAwait(false);
    }

    /// <summary>Revokes the model signing key <paramref name="keyId"/>: every version it signed stops serving, on every gateway instance.</summary>
    public async Task<IActionResult> RevokeSignerAsync(HttpRequest request, string keyId)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (admin, refused) = await AdmitAsync(request, AdminActions.RevokeSigner).ConfigureAwait(false);
        if (admin is null)
        {
            return refused!;
        }

        if (!KeyIds.IsWellFormed(keyId))
        {
            return await RefuseAsync(admin, Refusal.Invalid("a signing key id is 32 lower-case hex characters")).ConfigureAwait(false);
        }

        return await ChangeAsync(admin with { Target = Target("signer", keyId) }, async () =>
            (await _containment.SetAsync(ContainmentKind.RevokeSigner, keyId, null, null, admin.RequestId, CancellationToken.None).ConfigureAwait(false), true)).ConfigureAwait(false);
    }

    /// <summary>
    /// Revokes tokens (body: <c>{"tokenId": "..."}</c> for one token by its <c>jti</c>/<c>uti</c>, or <c>{"subject": "..."}</c>
    /// / <c>{"pseudonym": "..."}</c> for every token a caller was issued up to now; optional <c>"duration"</c>, default the
    /// longest token lifetime accepted).
    /// </summary>
    public async Task<IActionResult> RevokeTokensAsync(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (admin, refused) = await AdmitAsync(request, AdminActions.RevokeToken).ConfigureAwait(false);
        if (admin is null)
        {
            return refused!;
        }

        var (parsed, unreadRevocation) = await ReadTargetAsync(request, allowTokenId: true).ConfigureAwait(false);
        if (parsed is not { } target)
        {
            return await RefuseAsync(admin, unreadRevocation ?? BadRevocation).ConfigureAwait(false);
        }

        var duration = target.Duration ?? _revocationHold;
        var (kind, action, name) = target.TokenId is not null
            ? (ContainmentKind.RevokeToken, AdminActions.RevokeToken, "token")
            : (ContainmentKind.RevokeCaller, AdminActions.RevokeCaller, "caller");
        var subject = target.TokenId ?? target.Pseudonym!;
        var evidence = new Dictionary<string, string>(StringComparer.Ordinal) { [name] = subject, ["duration"] = duration.ToString("c", CultureInfo.InvariantCulture) };
        return await ChangeAsync(admin with { Action = action, Target = evidence }, async () =>
            (await _containment.SetAsync(kind, subject, duration, null, admin.RequestId, CancellationToken.None).ConfigureAwait(false), true)).ConfigureAwait(false);
    }

    /// <summary>Security events (audit records of operation <c>security</c>, admin actions included), newest first; query <c>since</c> and <c>limit</c>.</summary>
    public async Task<IActionResult> SecurityEventsAsync(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (admin, refused) = await AdmitAsync(request, AdminActions.ReadSecurityEvents).ConfigureAwait(false);
        if (admin is null)
        {
            return refused!;
        }

        DateTimeOffset? since = null;
        var limit = _options.DefaultEventLimit;
        if ((request.Query["since"].ToString() is { Length: > 0 } s && !TryParseTime(s, out since))
            || (request.Query["limit"].ToString() is { Length: > 0 } l && (!int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > _options.MaxEventLimit)))
        {
            return await RefuseAsync(admin, Refusal.Invalid("since must be an ISO 8601 time and limit a whole number within the allowed range")).ConfigureAwait(false);
        }

        byte[] body;
        try
        {
            body = AdminJson.SecurityEvents(await _reader.SecurityRecordsAsync(since, limit, request.HttpContext.RequestAborted).ConfigureAwait(false));
        }
        catch (Exception ex) when (IsStorageFailure(ex))
        {
            Log.ReadFailed(_logger, ex, admin.RequestId, admin.Action);
            return await RefuseAsync(admin, StorageUnavailable).ConfigureAwait(false);
        }

        return await ReleaseAsync(admin, AdminOutcomes.Done, V2Results.JsonBody(body)).ConfigureAwait(false);
    }

    /// <summary>The latest signed checkpoints (tree heads) of each audit writer, each signature checked.</summary>
    public async Task<IActionResult> CheckpointsAsync(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (admin, refused) = await AdmitAsync(request, AdminActions.ReadCheckpoints).ConfigureAwait(false);
        if (admin is null)
        {
            return refused!;
        }

        byte[] body;
        try
        {
            body = AdminJson.Checkpoints(await _reader.CheckpointsAsync(_options.CheckpointsPerWriter, _checkpointKeys.Keys.ToList(), request.HttpContext.RequestAborted).ConfigureAwait(false));
        }
        catch (Exception ex) when (IsStorageFailure(ex))
        {
            Log.ReadFailed(_logger, ex, admin.RequestId, admin.Action);
            return await RefuseAsync(admin, StorageUnavailable).ConfigureAwait(false);
        }

        return await ReleaseAsync(admin, AdminOutcomes.Done, V2Results.JsonBody(body)).ConfigureAwait(false);
    }

    private async Task<IActionResult> ModelContainmentAsync(HttpRequest request, string action, string model, string version)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (admin, refused) = await AdmitAsync(request, action).ConfigureAwait(false);
        if (admin is null)
        {
            return refused!;
        }

        if (!AdminGate.IsValidModelVersion(model, version))
        {
            return await RefuseAsync(admin, BadModelName).ConfigureAwait(false);
        }

        var subject = ContainmentEntry.ModelSubject(model, version);
        admin = admin with { Model = model, ModelVersion = version };
        return action == AdminActions.Quarantine
            ? await ChangeAsync(admin, async () =>
                (await _containment.SetAsync(ContainmentKind.Quarantine, subject, null, null, admin.RequestId, CancellationToken.None).ConfigureAwait(false), true)).ConfigureAwait(false)
            : await ChangeAsync(admin, async () =>
                ((ContainmentEntry?)null, await _containment.LiftAsync(ContainmentKind.Quarantine, subject, CancellationToken.None).ConfigureAwait(false))).ConfigureAwait(false);
    }

    /// <summary>A containment change: <c>requested</c> recorded first (else 503 and nothing done), then the change, then its result.</summary>
    private async Task<IActionResult> ChangeAsync(AdminRequest admin, Func<Task<(ContainmentEntry? Entry, bool Changed)>> change)
    {
        if (!await _audit.TryRecordAsync(admin, AdminOutcomes.Requested).ConfigureAwait(false))
        {
            return Respond(admin.RequestId, AuditUnavailable);
        }

        (ContainmentEntry? Entry, bool Changed) result;
        try
        {
            result = await change().ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStorageFailure(ex))
        {
            return await FailedAsync(admin, ex).ConfigureAwait(false);
        }

        var body = AdminJson.Containment(admin.RequestId, admin.Action, result.Entry, result.Changed);
        return await ReleaseAsync(admin, result.Changed ? AdminOutcomes.Done : AdminOutcomes.NoChange, V2Results.JsonBody(body)).ConfigureAwait(false);
    }

    /// <summary>Authenticates the request and requires the admin role; the refusal to answer otherwise.</summary>
    private async Task<(AdminRequest? Admin, IActionResult? Refused)> AdmitAsync(HttpRequest request, string action)
    {
        var requestId = AdminRequest.NewId();
        var (caller, refusal) = await _gate.AdmitAsync(requestId, request.Headers.Authorization.ToString(), request.HttpContext.RequestAborted).ConfigureAwait(false);
        if (caller is null)
        {
            // Not audited, as on the data plane: anyone could otherwise grow the immutable log.
            return (null, Respond(requestId, refusal!));
        }

        var admin = new AdminRequest(requestId, caller, action);
        if (refusal is not null)
        {
            // Any holder of a token for this deployment gets this far: past its first refusal by each reason in an
            // interval, each is counted into the caller's admin-refusals summary instead of a record (and a log line)
            // of its own. Not an admin token of this app (revoked, or its caller blocked): what a stolen admin
            // credential looks like, and few can hold one; each such refusal keeps its record, naming the action.
            var reason = refusal.Kind == RefusalKind.Unauthenticated ? AdminRefusalSummaries.Revoked : AdminRefusalSummaries.Denied;
            var pseudonym = _pseudonymizer.Pseudonymize(caller.Subject);
            var adminToken = !caller.SiblingAudience && caller.Roles.Contains(AdminRoles.Admin, StringComparer.Ordinal);
            if (!adminToken && _refusals.TryCount(pseudonym, reason))
            {
                return (null, Respond(requestId, refusal));
            }

            Log.NotAnAdmin(_logger, requestId, action);
            if (await _audit.TryRecordAsync(admin, AdminOutcomes.Refused(refusal)).ConfigureAwait(false))
            {
                return (null, Respond(requestId, refusal));
            }

            // Not committed: the caller's next refusal by this reason is audited one by one again, not counted.
            if (!adminToken)
            {
                _refusals.Forget(pseudonym, reason);
            }

            return (null, Respond(requestId, AuditUnavailable));
        }

        return (admin, null);
    }

    /// <summary>Records the refusal, then answers it (503 instead when the record cannot be committed).</summary>
    private async Task<IActionResult> RefuseAsync(AdminRequest admin, Refusal refusal) =>
        await _audit.TryRecordAsync(admin, AdminOutcomes.Refused(refusal)).ConfigureAwait(false)
            ? Respond(admin.RequestId, refusal)
            : Respond(admin.RequestId, AuditUnavailable);

    /// <summary>A requested change that failed part-way: recorded as <c>failed</c> (best effort), answered 503.</summary>
    private async Task<IActionResult> FailedAsync(AdminRequest admin, Exception exception)
    {
        Log.ActionFailed(_logger, exception, admin.RequestId, admin.Action);
        await _audit.TryRecordAsync(admin, AdminOutcomes.Failed).ConfigureAwait(false);
        return Respond(admin.RequestId, StorageUnavailable);
    }

    /// <summary>Commits the record of <paramref name="admin"/> with <paramref name="outcome"/>, then releases <paramref name="result"/>.</summary>
    private async Task<IActionResult> ReleaseAsync(AdminRequest admin, string outcome, BodyResult result)
    {
        if (!await _audit.TryRecordAsync(admin, outcome).ConfigureAwait(false))
        {
            return Respond(admin.RequestId, AuditUnavailable);
        }

        result.Headers[RequestIds.Header] = admin.RequestId;
        return result;
    }

    private static BodyResult Respond(string requestId, Refusal refusal)
    {
        var result = V2Results.Refused(refusal);
        result.Headers[RequestIds.Header] = requestId;
        return result;
    }

    // The body's target, or the refusal of a body that could not be read (too large 413, too slow 408, cut off): before
    // 2026-12-07 every one of those was answered as a schema error, 400 (found in review).
    private async Task<(TargetRequest? Target, Refusal? Unread)> ReadTargetAsync(HttpRequest request, bool allowTokenId)
    {
        using var buffer = new MemoryStream();
        if (await ReadBoundedAsync(request, buffer, 4096, "body too large").ConfigureAwait(false) is { } unread)
        {
            return (null, unread);
        }

        try
        {
            var bytes = buffer.ToArray();

            // Names and strings are read below: an unpaired surrogate escape would throw there (JsonEscapes).
            if (!JsonEscapes.AreWellFormed(bytes, new JsonReaderOptions { MaxDepth = 2 }))
            {
                return (null, null);
            }

            using var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 2 });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, null);
            }

            string? subject = null, pseudonym = null, tokenId = null;
            TimeSpan? duration = null;
            foreach (var property in root.EnumerateObject())
            {
                switch (property.Name)
                {
                    case "subject" when property.Value.ValueKind == JsonValueKind.String && subject is null:
                        subject = property.Value.GetString();
                        break;
                    case "pseudonym" when property.Value.ValueKind == JsonValueKind.String && pseudonym is null:
                        pseudonym = property.Value.GetString();
                        break;
                    case "tokenId" when allowTokenId && property.Value.ValueKind == JsonValueKind.String && tokenId is null:
                        tokenId = property.Value.GetString();
                        break;
                    case "duration" when property.Value.ValueKind == JsonValueKind.String && duration is null
                        && TimeSpan.TryParseExact(property.Value.GetString(), "c", CultureInfo.InvariantCulture, out var parsed)
                        && ContainmentSubjects.IsDuration(parsed):
                        duration = parsed;
                        break;
                    default:
                        return (null, null);
                }
            }

            var given = (subject is null ? 0 : 1) + (pseudonym is null ? 0 : 1) + (tokenId is null ? 0 : 1);
            if (given != 1 || subject is { Length: 0 } || (pseudonym is not null && !IsPseudonym(pseudonym)) || (tokenId is not null && !IsTokenId(tokenId)))
            {
                return (null, null);
            }

            return (tokenId is not null
                ? new TargetRequest(null, tokenId, duration)
                : new TargetRequest(pseudonym ?? _pseudonymizer.Pseudonymize(subject), null, duration), null);
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    /// <summary>
    /// Reads the request's body into <paramref name="destination"/>, at most <paramref name="maxBytes"/>: null when read
    /// whole, else the refusal (too large, timed out, cut off). Read as every route's body is (<see cref="HttpEdge.Body"/>:
    /// its idle and total timeouts, and the server's failures as refusals, never an exception escaping the function),
    /// with the server's own body limit raised to this route's, so a package up to <see cref="AdminOptions.MaxPackageBytes"/>
    /// is accepted by both hosts (the standalone host's Kestrel caps other routes at the protocol's 16 MiB, the Functions
    /// worker's at 30 MB).
    /// </summary>
    private static async Task<Refusal?> ReadBoundedAsync(HttpRequest request, Stream destination, long maxBytes, string tooLarge)
    {
        HttpEdge.AllowBody(request, maxBytes + 1);
        var cancellationToken = request.HttpContext.RequestAborted;
        var buffer = new byte[81_920];
        long total = 0;
        int read;
        try
        {
            await using var source = HttpEdge.Body(request);
            while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                total += read;
                if (total > maxBytes)
                {
                    return Refusal.TooLarge(tooLarge);
                }

                await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (RefusedException ex)
        {
            return ex.Refusal.Kind == RefusalKind.TooLarge ? Refusal.TooLarge(tooLarge) : ex.Refusal;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException && cancellationToken.IsCancellationRequested)
        {
            // The caller left mid-body: a refusal, audited like any other, never an exception out of the function
            // (before 2026-12-07 it left the action with no record; found in review).
            return Refusal.Cancelled;
        }

        return null;
    }

    private static bool TryParseTime(string text, out DateTimeOffset? time)
    {
        var ok = DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed);
        time = ok ? parsed : null;
        return ok;
    }

    private static bool IsPseudonym(string? value) => ContainmentSubjects.IsPseudonym(value);

    private static Dictionary<string, string> Target(string name, string value) => new(StringComparer.Ordinal) { [name] = value };

    private static bool IsStorageFailure(Exception exception) =>
        exception is RequestFailedException or AggregateException or HttpRequestException or TimeoutException;

    private static bool IsTokenId(string value) => ContainmentSubjects.IsTokenId(value);

    /// <summary>A caller (by pseudonym) or a token (by id), and how long.</summary>
    private readonly record struct TargetRequest(string? Pseudonym, string? TokenId, TimeSpan? Duration);
}
