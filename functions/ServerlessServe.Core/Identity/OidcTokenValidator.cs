using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace ServerlessServe.Core.Identity;

/// <summary>
/// Validates caller bearer tokens against an OpenID Connect issuer's metadata: the signing keys of its JWKS (refreshed
/// by the configuration manager on its own schedule), its issuer unless others are configured, the configured
/// audiences, RS256/ES256 only, a required <c>kid</c>, and a lifetime checked against the injected clock with at most
/// 60 s skew. A token whose <c>kid</c> the key set does not hold asks for one metadata refresh, at most one per
/// <see cref="OidcValidationPolicy.RefreshInterval"/>, so an issuer's new key is accepted without a restart while a
/// flood of made-up key ids cannot make this instance hammer the issuer. With
/// <see cref="OidcValidationPolicy.AllowedIdentities"/> it accepts only tokens of those identities (the inference app
/// pinned to the gateway's managed identity). With <see cref="OidcValidationPolicy.SiblingAudiences"/> it also accepts
/// tokens for the deployment's other apps' audiences, marked <see cref="CallerIdentity.SiblingAudience"/>: the caller
/// is known (and audited) but may do nothing here. Thread-safe.
/// </summary>
public sealed class OidcTokenValidator : IBearerTokenValidator
{
    private static readonly TimeSpan RefreshPoll = TimeSpan.FromMilliseconds(25);
    private static readonly string[] PinnedClaims = ["azp", "appid", "oid"];

    private readonly IConfigurationManager<OpenIdConnectConfiguration> _metadata;
    private readonly OidcValidationPolicy _policy;
    private readonly TimeProvider _time;
    private readonly ILogger<OidcTokenValidator> _logger;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly VerifiedTokenCache _verified;
    private readonly Lock _refreshGate = new();
    private DateTimeOffset _nextRefreshAllowed = DateTimeOffset.MinValue;
    private volatile ParametersFor? _parameters;

    public OidcTokenValidator(IConfigurationManager<OpenIdConnectConfiguration> metadata, OidcValidationPolicy policy, TimeProvider time, ILogger<OidcTokenValidator> logger)
    {
        _metadata = metadata ?? throw new ArgumentNullException(nameof(metadata));
        _policy = policy ?? throw new ArgumentNullException(nameof(policy));
        _policy.Validate();
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _verified = new VerifiedTokenCache(time);
        if (!_policy.RequireAccessToken)
        {
            Log.AccessTokenNotRequired(_logger);
        }
    }

    public async Task<TokenVerdict> ValidateAsync(string? token, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(token))
        {
            return TokenVerdict.Refused(TokenFailure.Missing);
        }

        if (token.Length > _policy.MaxTokenLength)
        {
            return TokenVerdict.Refused(TokenFailure.TooLarge);
        }

        if (_verified.TryGet(token, out var remembered))
        {
            return TokenVerdict.Accepted(remembered!);
        }

        if (TokenScreen.Read(_handler, token, _policy.Algorithms, out var jwt) is { } unreadable)
        {
            return TokenVerdict.Refused(unreadable);
        }

        if (TokenScreen.CheckLifetime(jwt!, _time.GetUtcNow(), _policy.ClockSkew, _policy.MaxLifetime) is { } outOfTime)
        {
            return TokenVerdict.Refused(outOfTime);
        }

        OpenIdConnectConfiguration configuration;
        try
        {
            configuration = await _metadata.GetConfigurationAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidOperationException ex)
        {
            Log.MetadataUnavailable(_logger, ex);
            return TokenVerdict.Refused(TokenFailure.MetadataUnavailable);
        }

        if (!HoldsKey(configuration, jwt!.Kid))
        {
            configuration = await RefreshForUnknownKeyAsync(configuration, cancellationToken).ConfigureAwait(false) ?? configuration;
            if (!HoldsKey(configuration, jwt.Kid))
            {
                return TokenVerdict.Refused(TokenFailure.UnknownKey);
            }
        }

        var result = await _handler.ValidateTokenAsync(jwt, Parameters(configuration)).ConfigureAwait(false);
        if (!result.IsValid || result.SecurityToken is not JsonWebToken validated)
        {
            return TokenVerdict.Refused(TokenScreen.FromException(result.Exception));
        }

        if (_policy.RequireAccessToken && !TokenScreen.IsAccessToken(validated))
        {
            return TokenVerdict.Refused(TokenFailure.NotAccessToken);
        }

        if (TokenScreen.Caller(validated, out var named) is { } unnamed)
        {
            return TokenVerdict.Refused(unnamed);
        }

        var caller = named!;
        if (_policy.AllowedIdentities.Count > 0 && !FromAllowedIdentity(validated))
        {
            return TokenVerdict.Refused(TokenFailure.CallerNotAllowed);
        }

        if (_policy.SiblingAudiences.Count > 0 && !validated.Audiences.Any(a => _policy.Audiences.Contains(a, StringComparer.Ordinal)))
        {
            // A genuine token of this deployment for another of its apps: known, so audited, but it grants nothing here.
            caller = caller with { SiblingAudience = true };
        }

        _verified.Add(token, caller, new DateTimeOffset(validated.ValidTo, TimeSpan.Zero) + _policy.ClockSkew);
        return TokenVerdict.Accepted(caller);
    }

    // The claims that name the party a token was issued to: azp (v2), appid (v1) and the principal's object id (oid).
    private bool FromAllowedIdentity(JsonWebToken token)
    {
        foreach (var claim in PinnedClaims)
        {
            if (token.TryGetPayloadValue<string>(claim, out var value) && !string.IsNullOrEmpty(value)
                && _policy.AllowedIdentities.Contains(value, StringComparer.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static bool HoldsKey(OpenIdConnectConfiguration configuration, string keyId) =>
        configuration.SigningKeys.Any(key => string.Equals(key.KeyId, keyId, StringComparison.Ordinal));

    // One refresh per interval, on this instance's clock; the request that opened the gate waits for it (the library
    // may fetch in the background, so the manager is polled until it hands out a new configuration), others are not
    // held up and are refused if their key is still unknown.
    private async Task<OpenIdConnectConfiguration?> RefreshForUnknownKeyAsync(OpenIdConnectConfiguration current, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        lock (_refreshGate)
        {
            if (now < _nextRefreshAllowed)
            {
                Log.RefreshRateLimited(_logger, _nextRefreshAllowed);
                IdentityTelemetry.RecordRefresh("rate_limited");
                return null;
            }

            _nextRefreshAllowed = now + _policy.RefreshInterval;
        }

        Log.RefreshingForUnknownKey(_logger);
        _metadata.RequestRefresh();

        // Wall-clock time on purpose: this bounds a wait for I/O, it decides nothing about a token.
        var waiting = Stopwatch.StartNew();
        while (true)
        {
            OpenIdConnectConfiguration latest;
            try
            {
                latest = await _metadata.GetConfigurationAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (InvalidOperationException ex)
            {
                Log.MetadataUnavailable(_logger, ex);
                IdentityTelemetry.RecordRefresh("failed");
                return null;
            }

            if (!ReferenceEquals(latest, current))
            {
                Log.MetadataRefreshed(_logger, latest.SigningKeys.Count);
                IdentityTelemetry.RecordRefresh("refreshed");
                return latest;
            }

            if (waiting.Elapsed >= _policy.RefreshWait)
            {
                Log.RefreshNotCompleted(_logger, _policy.RefreshWait);
                IdentityTelemetry.RecordRefresh("timed_out");
                return null;
            }

            await Task.Delay(RefreshPoll, cancellationToken).ConfigureAwait(false);
        }
    }

    // Validation parameters depend only on the configuration instance: built once per metadata refresh.
    private TokenValidationParameters Parameters(OpenIdConnectConfiguration configuration)
    {
        var cached = _parameters;
        if (cached is not null && ReferenceEquals(cached.Configuration, configuration))
        {
            return cached.Parameters;
        }

        var issuers = _policy.Issuers.Count > 0 ? _policy.Issuers : string.IsNullOrEmpty(configuration.Issuer) ? [] : [configuration.Issuer];
        var parameters = new TokenValidationParameters
        {
            ValidIssuers = issuers,
            ValidateIssuer = true,
            ValidAudiences = _policy.SiblingAudiences.Count == 0 ? _policy.Audiences : [.. _policy.Audiences, .. _policy.SiblingAudiences],
            ValidateAudience = true,
            RequireAudience = true,
            // The library's default matches "api://x/" for "api://x" (and back); an audience is an exact string here, as
            // in the sibling check below. Found in review 2026-12-07.
            IgnoreTrailingSlashWhenValidatingAudience = false,
            IssuerSigningKeys = configuration.SigningKeys,
            TryAllIssuerSigningKeys = false,
            ValidateIssuerSigningKey = true,
            ValidAlgorithms = _policy.Algorithms,
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateLifetime = true,
            ClockSkew = _policy.ClockSkew,
            LifetimeValidator = (notBefore, expires, _, p) => TokenScreen.LifetimeValid(notBefore, expires, _time.GetUtcNow(), p.ClockSkew, _policy.MaxLifetime),
        };
        _parameters = new ParametersFor(configuration, parameters);
        return parameters;
    }

    private sealed record ParametersFor(OpenIdConnectConfiguration Configuration, TokenValidationParameters Parameters);
}
