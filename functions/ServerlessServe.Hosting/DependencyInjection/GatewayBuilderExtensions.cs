using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Identity;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Redaction;
using ServerlessServe.Core.Serving;
using ServerlessServe.Core.Serving.Limits;
using ServerlessServe.Core.Serving.Stages;
using ServerlessServe.Hosting.Http;
using ServerlessServe.Hosting.Identity;
using ServerlessServe.Hosting.Options;

namespace ServerlessServe.Hosting.DependencyInjection;

/// <summary>The gateway's features: its client of the inference app and its request pipelines.</summary>
public static class GatewayBuilderExtensions
{
    /// <summary>
    /// The inference app's client (<c>ServerlessServe:Gateway:InferenceBaseUrl</c>), with a token of the gateway's managed
    /// identity on every call (<see cref="IdentityBuilderExtensions.AddServiceTokens"/>),
    /// as the gateway's <see cref="IInferenceBackend"/>. One long-lived client: its handler recycles connections every
    /// 5 minutes (see <c>AddServerlessServe</c>), so DNS changes are seen without recreating it.
    /// </summary>
    public static IServerlessServeBuilder AddInferenceClient(this IServerlessServeBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddValidatedOptions<GatewayOptions, GatewayOptionsValidator>(GatewayOptions.SectionName);
        InferenceResilience.AddTo(builder.Services.AddHttpClient(InferenceClient.HttpClientName, (sp, http) =>
        {
            var options = sp.GetRequiredService<IOptions<GatewayOptions>>().Value;
            http.BaseAddress = EnsureTrailingSlash(options.InferenceBaseUrl!);
            http.Timeout = options.InferenceTimeout;
        }));
        builder.Services.TryAddSingleton(sp => new InferenceClient(
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(InferenceClient.HttpClientName),
            sp.GetRequiredService<ServiceTokenCache>(),
            sp.GetRequiredService<ProtocolLimits>(),
            sp.GetRequiredService<ILogger<InferenceClient>>(),
            sp.GetRequiredService<TimeProvider>()));
        builder.Services.TryAddSingleton<IInferenceBackend>(sp => sp.GetRequiredService<InferenceClient>());
        return builder;
    }

    /// <summary>
    /// The gateway's pipelines — model routes: authenticate → misses → honey-caller → contain → honey-model → resolve →
    /// authorize, closed by miss; infer: admit, those, then limit → read → signature → validate → budget → screen → infer →
    /// squeeze → extract → redact → canary → encode, closed by audit, release and miss — the endpoints that run them, and the containment they enforce
    /// (<see cref="ContainmentBuilderExtensions.AddContainment"/>) and the signed requests some models require
    /// (<see cref="SignatureBuilderExtensions.AddRequestSignatures"/>). Needs <c>AddAuditLog</c>, <c>AddExtractionDetection</c>
    /// (extract, and screen, which reports each request's flagged rows to the caller's extraction state) and
    /// <see cref="CanaryBuilderExtensions.AddCanaries"/>.
    /// </summary>
    public static IServerlessServeBuilder AddGatewayPipeline(this IServerlessServeBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddContainment();
        builder.Services.TryAddSingleton<AuthRefusalTally>();
        builder.Services.AddHostedService<AuthRefusalSummaries>();
        builder.AddRequestSignatures();
        builder.Services.AddValidatedOptions<LimitOptions, LimitOptionsValidator>(LimitOptions.SectionName);
        builder.Services.TryAddSingleton<RequestLimits>();
        builder.Services.TryAddSingleton(sp => new RateLimitRefusalTally(sp.GetRequiredService<IOptions<LimitOptions>>().Value.SummarizeRefusals));
        builder.Services.AddHostedService<Limits.RateLimitRefusalSummaries>();
        builder.Services.TryAddSingleton(sp => new SharedBudgets(
            sp.GetRequiredService<Azure.Data.Tables.TableServiceClient>().GetTableClient(sp.GetRequiredService<IOptions<LimitOptions>>().Value.BudgetTable),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<SharedBudgets>>()));
        builder.Services.AddHostedService<Limits.BudgetService>();
        builder.Services.AddValidatedOptions<RedactionOptions, RedactionOptionsValidator>(RedactionOptions.SectionName);
        builder.Services.TryAddSingleton<ResponseRedactor>();
        builder.AddPipeline<ModelRequestContext>(stages => stages
            .Add<Authenticate<CallerAuthenticator>>()
            .Add<CheckMisses>()
            .Add<RefuseHoneyCaller>()
            .Add<EnforceContainment>()
            .Add<RefuseHoneyModel>()
            .Add<ResolveModel>()
            .Add<AuthorizeCaller>()
            .Finally<ChargeMisses>());
        builder.AddPipeline<InferenceContext>(stages => stages
            .Add<AdmitRequest>()
            .Add<Authenticate<CallerAuthenticator>>()
            .Add<CheckMisses>()
            .Add<RefuseHoneyCaller>()
            .Add<EnforceContainment>()
            .Add<RefuseHoneyModel>()
            .Add<ResolveModel>()
            .Add<AuthorizeCaller>()
            .Add<LimitCaller>()
            .Add<ReadRequest>()
            .Add<VerifySignature>()
            .Add<ValidateRequest>()
            .Add<ChargeBudget>()
            .Add<ScreenInput>()
            .Add<InferRemote>()
            .Add<DetectAdversarial>()
            .Add<DetectExtraction>()
            .Add<RedactResponse>()
            .Add<DetectCanaryOutput>()
            .Add<EncodeResponse>()
            .Finally<AuditRequest>()
            .Finally<ReleaseLimits>()
            .Finally<ChargeMisses>());
        builder.AddPipeline<Audit.AuditProofRequestContext>(stages => stages
            .Add<Authenticate<CallerAuthenticator>>()
            .Add<RefuseHoneyCaller>()
            .Add<EnforceContainment>());
        builder.Services.TryAddSingleton<Audit.AuditProofEndpoints>();
        builder.Services.TryAddSingleton<GatewayReadiness>();
        builder.Services.TryAddSingleton<GatewayEndpoints>();
        return builder;
    }

    private static Uri EnsureTrailingSlash(Uri uri) =>
        uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
}
