using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ServerlessServe.Hosting.DependencyInjection;

/// <summary>
/// Returned by <see cref="ServerlessServeServiceCollectionExtensions.AddServerlessServe"/>: each feature adds itself
/// with one call (<c>AddModelCatalog()</c>, <c>AddAuditLog()</c>, …), so an app's <c>Program.cs</c> reads as the list of
/// what it runs.
/// </summary>
public interface IServerlessServeBuilder
{
    /// <summary>The application's services.</summary>
    IServiceCollection Services { get; }

    /// <summary>The application's configuration (read-only here: registration never rewrites it).</summary>
    IConfiguration Configuration { get; }
}
