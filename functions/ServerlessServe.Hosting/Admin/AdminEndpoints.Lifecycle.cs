using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using ServerlessServe.Core.Admin;
using ServerlessServe.Core.Artifacts.Lifecycle;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Hosting.Http;

namespace ServerlessServe.Hosting.Admin;

/// <summary>
/// The admin plane's signed lifecycle documents and revocation lists (docs/artifacts.md, "Version lifecycle and
/// revocation"). The admin app holds no signing key: it stores a document a trusted model signer signed elsewhere,
/// after checking it exactly as every instance will.
/// </summary>
public sealed partial class AdminEndpoints
{
    private const int MaxSignedDocumentBody = (ControlJson.MaxDocumentBytes * 4 / 3) + 4096;

    private static readonly Refusal BadSignedDocument = Refusal.Invalid(
        "send {\"document\": base64 of the document's JSON bytes, \"signature\": its base64 ECDSA P-256 signature}, signed by a trusted model signer, with the next sequence");

    /// <summary>Stores the next signed lifecycle document of <paramref name="model"/> (body: <c>{"document": base64, "signature": base64}</c>).</summary>
    public Task<IActionResult> PublishLifecycleAsync(HttpRequest request, string model) =>
        PublishControlAsync(request, AdminActions.PublishLifecycle, model);

    /// <summary>Stores the next signed revocation list (body: <c>{"document": base64, "signature": base64}</c>).</summary>
    public Task<IActionResult> PublishRevocationsAsync(HttpRequest request) =>
        PublishControlAsync(request, AdminActions.PublishRevocations, null);

    private async Task<IActionResult> PublishControlAsync(HttpRequest request, string action, string? model)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (admin, refused) = await AdmitAsync(request, action).ConfigureAwait(false);
        if (admin is null)
        {
            return refused!;
        }

        if (model is not null && !AdminGate.IsValidModelVersion(model, "1"))
        {
            return await RefuseAsync(admin, BadModelName).ConfigureAwait(false);
        }

        // Named on every record from here on, a refused body's included (before 2026-12-07 a body that was not JSON was
        // audited without its model, so a filter on the model missed those attempts; found in review).
        admin = admin with { Model = model };

        using var buffer = new MemoryStream();
        if (await ReadBoundedAsync(request, buffer, MaxSignedDocumentBody, "document too large").ConfigureAwait(false) is { } unread)
        {
            return await RefuseAsync(admin, unread).ConfigureAwait(false);
        }

        byte[] document;
        string signature;
        long sequence;
        string signer;
        try
        {
            using var body = JsonDocument.Parse(buffer.ToArray());
            document = Convert.FromBase64String(body.RootElement.GetProperty("document").GetString() ?? string.Empty);
            signature = body.RootElement.GetProperty("signature").GetString() ?? string.Empty;
            (sequence, signer) = model is null
                ? ControlJson.ParseRevocations(document) is var r ? (r.Sequence, r.SignerKeyId) : default
                : ControlJson.ParseLifecycle(document) is var l ? (l.Sequence, l.SignerKeyId) : default;
        }
        catch (Exception ex) when (ex is JsonException or FormatException or KeyNotFoundException or InvalidOperationException or ControlDocumentException)
        {
            return await RefuseAsync(admin, BadSignedDocument).ConfigureAwait(false);
        }

        // The record names the key that verifies the document, never only the one the document claims (before 2026-12-06
        // the "requested" record of a forged document named whichever signer its author wrote in).
        if (Core.Artifacts.ManifestSignature.Verify(document, System.Text.Encoding.ASCII.GetBytes(signature), _signers) is not { } verifiedSigner
            || !string.Equals(verifiedSigner, signer, StringComparison.Ordinal))
        {
            Log.SignedDocumentRefused(_logger, admin.RequestId, admin.Action);
            return await RefuseAsync(admin with { Model = model }, BadSignedDocument).ConfigureAwait(false);
        }

        admin = admin with
        {
            Model = model,
            Target = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["sequence"] = sequence.ToString(CultureInfo.InvariantCulture),
                ["signer"] = signer,
                ["documentSha256"] = Convert.ToHexStringLower(SHA256.HashData(document)),
            },
        };
        if (!await _audit.TryRecordAsync(admin, AdminOutcomes.Requested).ConfigureAwait(false))
        {
            return Respond(admin.RequestId, AuditUnavailable);
        }

        try
        {
            var prefix = model is null ? ControlStore.RevocationsPrefix : ControlStore.LifecyclePrefix(model);
            await new ControlStore(_store.Container, _signers).PublishSignedAsync(prefix, sequence, document, signature, CancellationToken.None).ConfigureAwait(false);
        }
        catch (ControlDocumentException ex)
        {
            Log.SignedDocumentRefused(_logger, admin.RequestId, admin.Action);
            return await RefuseAsync(admin, ex.Problem switch
            {
                ControlDocumentProblem.SequenceTaken => Refusal.Invalid("a document with this sequence or a higher one is already stored"),
                ControlDocumentProblem.SequenceSkipsAhead => Refusal.Invalid("the sequence must be one above the latest stored document"),
                ControlDocumentProblem.SignerRevoked => Refusal.Invalid("the document is signed by a revoked key"),
                ControlDocumentProblem.DropsRevokedSigner => Refusal.Invalid("a revocation list must keep every signer the list in force revokes"),
                _ => BadSignedDocument,
            }).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStorageFailure(ex))
        {
            return await FailedAsync(admin, ex).ConfigureAwait(false);
        }

        var result = V2Results.JsonBody(AdminJson.ControlPublished(admin.RequestId, model, sequence, signer), 201);
        return await ReleaseAsync(admin, AdminOutcomes.Done, result).ConfigureAwait(false);
    }
}
