using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Audit;
using ServerlessServe.Hosting.Audit;

namespace ServerlessServe.Hosting.DependencyInjection;

/// <summary>The hash-chained audit log: every response is released only after its record is committed.</summary>
public static class AuditBuilderExtensions
{
    /// <summary>
    /// The blob audit sink (<c>ServerlessServe:Audit</c>), its commit loop as a hosted service that starts with the host
    /// and drains on stop, and the caller pseudonymizer.
    /// </summary>
    public static IServerlessServeBuilder AddAuditLog(this IServerlessServeBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddValidatedOptions<AuditOptions, AuditOptionsValidator>(AuditOptions.SectionName)
            .Validate(o => !string.IsNullOrEmpty(o.PseudonymKey), "ServerlessServe:Audit:PseudonymKey is required: audit records hold caller pseudonyms, never raw ids.");
        services.TryAddSingleton(sp => new CallerPseudonymizer(Convert.FromBase64String(sp.GetRequiredService<IOptions<AuditOptions>>().Value.PseudonymKey!)));
        services.TryAddSingleton<BlobAuditSink>();
        services.TryAddSingleton<IAuditSink>(sp => sp.GetRequiredService<BlobAuditSink>());
        services.AddHostedService<AuditWriterService>();
        return builder;
    }
}
