using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Signatures;
using ServerlessServe.Hosting.Options;
using ServerlessServe.Hosting.Signatures;

namespace ServerlessServe.Hosting.DependencyInjection;

/// <summary>Signed requests: the request-key table and this instance's view of it, the replay store and its cleanup.</summary>
public static class SignatureBuilderExtensions
{
    /// <summary>
    /// <see cref="RequestSignatureCheck"/> over the key table and replay store of <c>ServerlessServe:Signatures</c>
    /// (<see cref="SignatureOptions"/>), the background refresh of the keys and the cleanup of expired nonces. Needs the
    /// table service client and the caller pseudonymizer (<c>AddAuditLog</c>).
    /// </summary>
    public static IServerlessServeBuilder AddRequestSignatures(this IServerlessServeBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddValidatedOptions<SignatureOptions, SignatureOptionsValidator>(SignatureOptions.SectionName);
        services.TryAddSingleton(sp => new RequestKeyStore(sp.GetRequiredService<TableServiceClient>()
            .GetTableClient(sp.GetRequiredService<IOptions<SignatureOptions>>().Value.KeyTable)));
        services.TryAddSingleton(sp => new NonceStore(sp.GetRequiredService<TableServiceClient>()
            .GetTableClient(sp.GetRequiredService<IOptions<SignatureOptions>>().Value.NonceTable)));
        services.TryAddSingleton<RequestKeyRegistry>();
        services.TryAddSingleton<RequestSignatureCheck>();
        services.TryAddSingleton<NonceCleanup>();
        if (!services.Any(d => d.ImplementationType == typeof(RequestKeyRefresher)))
        {
            services.AddHostedService<RequestKeyRefresher>();
            services.AddHostedService<NonceCleanupService>();
        }

        return builder;
    }
}
