using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Identity;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Serving.Stages;
using ServerlessServe.Hosting.DependencyInjection;
using ServerlessServe.Onnx.Stages;

namespace ServerlessServe.Onnx;

/// <summary>The inference app's feature: ONNX Runtime sessions over verified model bytes, and its request pipelines.</summary>
public static class OnnxBuilderExtensions
{
    /// <summary>
    /// ONNX Runtime (<c>ServerlessServe:Inference</c>): one session per verified model version, the runner, and the
    /// inference app's pipelines (authenticate → resolve → read → validate → infer → encode) and endpoints. Needs <see cref="ModelCatalogBuilderExtensions.AddModelCatalog"/>.
    /// </summary>
    public static IServerlessServeBuilder AddOnnxInference(this IServerlessServeBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<InferenceOptions>, InferenceOptionsValidator>());
        services.AddOptions<InferenceOptions>().BindConfiguration(InferenceOptions.SectionName).ValidateOnStart();

        // The gateway forwards validated requests in the binary encoding, which can be larger than the JSON the caller
        // sent (an FP64 "0," is 2 bytes in JSON, 8 in binary): the inference app accepts what the gateway's element
        // cap allows, or the body limit configured when that is larger. A configured limit was taken as it was before
        // 2026-12-07, and the deployment configures the caller's (16 MiB): a valid 8 MiB JSON request of 4 Mi FP32
        // zeros, forwarded as 16 MiB and change, was answered 413 in Azure only (found in review).
        services.PostConfigure<ProtocolLimits>(limits => limits.MaxBodyBytes = limits.BinaryBodyLimit);

        // The inference app verifies model bytes when it loads them, so its catalog need not stream them first.
        services.PostConfigure<ModelCatalogOptions>(o => o.VerifyModelDigest = false);
        services.TryAddSingleton<OnnxSessionCache>();
        services.TryAddSingleton(sp => new OnnxModelRunner(sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<OnnxModelRunner>>())
        {
            CudaRunThreads = sp.GetRequiredService<IOptions<InferenceOptions>>().Value.CudaRunThreads is > 0 and var threads
                ? new RunThreads("ServerlessServe run", threads)
                : null,
        });
        services.TryAddSingleton(sp => new DynamicBatcher(
            sp.GetRequiredService<OnnxModelRunner>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<DynamicBatcher>>())
        {
            ConcurrentBatches = sp.GetRequiredService<IOptions<InferenceOptions>>().Value.ConcurrentBatches,
            Padding = sp.GetRequiredService<IOptions<InferenceOptions>>().Value.BatchPadding,
            MaxBatchBytes = sp.GetRequiredService<IOptions<InferenceOptions>>().Value.MaxBatchBytes,
        });
        services.TryAddSingleton<InferenceModelHost>();
        services.TryAddSingleton<SessionReattestation>();
        services.AddHostedService(sp => sp.GetRequiredService<SessionReattestation>());
        builder.AddPipeline<OnnxModelContext>(stages => stages
            .Add<Authenticate<ServiceAuthenticator>>()
            .Add<LoadModel>());
        // Every request reaches read authenticated as the gateway, and no stage here digests the body: a binary body is
        // read straight into its tensors' arrays, with no buffer of its size (docs/performance.md, "Binary tensors read
        // from the connection").
        services.TryAddSingleton(sp => new ReadRequest(
            sp.GetRequiredService<ProtocolLimits>(), sp.GetRequiredService<TensorArrayPool>(), BodyReading.StreamBinaryTensors));
        services.TryAddSingleton<InferenceBodyBudget>();
        builder.AddPipeline<OnnxInferenceContext>(stages => stages
            .Add<Authenticate<ServiceAuthenticator>>()
            .Add<LoadModel>()
            .Add<AdmitBody>()
            .Add<ReadRequest>()
            .Add<ValidateRequest>()
            .Add<RunModel>()
            .Add<EncodeResponse>());
        services.TryAddSingleton<InferenceEndpoints>();
        return builder;
    }
}
