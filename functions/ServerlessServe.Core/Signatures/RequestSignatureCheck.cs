using System.Buffers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Identity;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Policy;
using ServerlessServe.Core.Serving;

namespace ServerlessServe.Core.Signatures;

/// <summary>
/// The whole check of a signed request for a model whose policy requires signatures, shared by the <c>signature</c>
/// stage and the jobs API: the storage-free checks (<see cref="SignatureVerifier"/>), the caller's key from this
/// instance's <see cref="RequestKeyRegistry"/>, then the nonce recorded in the <see cref="NonceStore"/> — last, so only
/// a request that verified spends a nonce. Every failure is the uniform 401 of refused tokens
/// (<see cref="Refusal.InvalidToken"/>) carrying the reason for the audit record; the log and the
/// <c>serverlessserve.auth.refusals</c> metric (authenticator <c>signature</c>) name it too. A key table or replay store
/// that cannot be reached refuses as unavailable (fail closed).
/// </summary>
public sealed class RequestSignatureCheck(
    RequestKeyRegistry keys,
    NonceStore nonces,
    CallerPseudonymizer pseudonymizer,
    IOptions<SignatureOptions> options,
    TimeProvider time,
    ILogger<RequestSignatureCheck> logger)
{
    /// <summary>
    /// The refusal for <paramref name="context"/> with body <paramref name="body"/> under the model's policy, or null when
    /// it passes (or the policy does not require signatures). Clears the context's signed-request material either way.
    /// </summary>
    public ValueTask<Refusal?> CheckAsync(ModelRequestContext context, ReadOnlyMemory<byte> body, CancellationToken cancellationToken) =>
        CheckAsync(context, new ReadOnlySequence<byte>(body), cancellationToken);

    /// <summary>As <see cref="CheckAsync(ModelRequestContext, ReadOnlyMemory{byte}, CancellationToken)"/> for a body kept in the buffers it arrived in.</summary>
    public async ValueTask<Refusal?> CheckAsync(ModelRequestContext context, ReadOnlySequence<byte> body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var signed = context.Signed;
        context.Signed = null;
        var policy = (context.Model ?? throw new InvalidOperationException("signature runs after resolve")).Policy.Signatures;
        if (policy is not { Required: true })
        {
            return null;
        }

        var caller = context.Caller ?? throw new InvalidOperationException("signature runs after authenticate");
        var pseudonym = pseudonymizer.Pseudonymize(caller.Subject);
        SignatureFailure failure;
        try
        {
            failure = await VerifyAsync(signed, body, pseudonym, policy, context.RequestedVersion is not null, cancellationToken).ConfigureAwait(false);
        }
        catch (ReplayStoreException ex)
        {
            Log.ReplayStoreUnavailable(logger, ex.InnerException!, context.RequestId, nonces.TableName);
            return Refusal.Unavailable("service unavailable") with { Reason = "replay_store_unavailable" };
        }
        catch (Exception ex) when (IsStoreFailure(ex, cancellationToken))
        {
            Log.KeyStoreUnavailable(logger, ex, context.RequestId, keys.TableName);
            return Refusal.Unavailable("service unavailable") with { Reason = "key_store_unavailable" };
        }

        if (failure == SignatureFailure.None)
        {
            return null;
        }

        var reason = SignatureFailureNames.Of(failure);
        Log.SignatureRefused(logger, context.RequestId, reason);
        IdentityTelemetry.SignatureRefused(reason);
        return Refusal.InvalidToken with { Reason = reason };
    }

    private async ValueTask<SignatureFailure> VerifyAsync(SignedRequest? signed, ReadOnlySequence<byte> body, string pseudonym, SignaturePolicy policy, bool versionNamed, CancellationToken cancellationToken)
    {
        if (SignatureVerifier.Missing(signed))
        {
            return SignatureFailure.Missing;
        }

        if (SignatureVerifier.Parse(signed!) is not { } parameters)
        {
            return SignatureFailure.Invalid;
        }

        var settings = options.Value;
        var now = time.GetUtcNow();
        if (SignatureVerifier.CheckTime(parameters, now, policy.MaxAge, settings.ClockSkew) is var stale and not SignatureFailure.None)
        {
            return stale;
        }

        if (await keys.GetAsync(pseudonym, parameters.KeyId, cancellationToken).ConfigureAwait(false) is not { } key)
        {
            return SignatureFailure.UnknownKey;
        }

        if (SignatureVerifier.CheckContent(signed!, parameters, body, key, settings.PublicBaseUrl) is var content and not SignatureFailure.None)
        {
            return content;
        }

        // Remembered until no request with this created time could pass the window any more: under this version's
        // policy when the signed target names the version (its policy is signed with it and cannot change), under the
        // longest window any policy may have when it names none, since "latest" may later resolve to a version whose
        // window is longer and would take the same request again.
        var window = versionNamed ? policy.MaxAge : SignaturePolicy.MaxMaxAge;
        // One second more: the window is checked in whole seconds (now's seconds minus created), so a request passes it
        // until a second after created + window, and with no clock skew allowed its nonce had expired for that second
        // (a replay in it was accepted; review, 2026-12-07).
        var expires = DateTimeOffset.FromUnixTimeSeconds(parameters.Created) + window + settings.ClockSkew + TimeSpan.FromSeconds(1);
        bool recorded;
        try
        {
            recorded = await nonces.TryRecordAsync(pseudonym, parameters.KeyId, parameters.Nonce, expires, now, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStoreFailure(ex, cancellationToken))
        {
            throw new ReplayStoreException(ex);
        }

        return recorded ? SignatureFailure.None : SignatureFailure.Replay;
    }

    // A table that cannot be reached (StoreFailures), or the key view gone stale: 503, never a 500.
    private static bool IsStoreFailure(Exception exception, CancellationToken cancellationToken) =>
        exception is KeyStoreStaleException || StoreFailures.IsUnreachable(exception, cancellationToken);
}
