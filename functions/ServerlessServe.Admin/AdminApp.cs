using Microsoft.Extensions.Hosting;
using ServerlessServe.Hosting.DependencyInjection;

namespace ServerlessServe.Admin;

/// <summary>What the admin app runs, for both hosts and the in-process tests: one line per feature.</summary>
public static class AdminApp
{
    /// <summary>Where the standalone admin app listens unless told otherwise.</summary>
    public const string DefaultUrl = "http://127.0.0.1:7074";

    /// <summary>
    /// Admin tokens (the caller issuer, with the admin app's own audience), the model store and its trusted signers, the
    /// audit log (every admin action is recorded) and the admin plane over the containment table.
    /// </summary>
    public static void Configure(IHostApplicationBuilder app) => app.AddServerlessServe()
        .AddModelCatalog()
        .AddCallerAuthentication()
        .AddAuditLog()
        .AddAdminPlane();
}
