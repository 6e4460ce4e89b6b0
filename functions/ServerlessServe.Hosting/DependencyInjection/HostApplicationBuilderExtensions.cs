using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ServerlessServe.Hosting.LocalState;

namespace ServerlessServe.Hosting.DependencyInjection;

/// <summary>The one call an app's <c>Program.cs</c> makes on either host's builder.</summary>
public static class HostApplicationBuilderExtensions
{
    /// <summary>
    /// Adds the local state folder's keys as a configuration source when <c>ServerlessServe:LocalStateDirectory</c> is
    /// set (development only, with a warning at start), then <see cref="ServerlessServeServiceCollectionExtensions.AddServerlessServe"/>.
    /// </summary>
    public static IServerlessServeBuilder AddServerlessServe(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.Configuration.AddLocalStateKeys() is { } directory)
        {
            builder.Services.AddHostedService(sp => new LocalStateNotice(directory, sp.GetRequiredService<ILogger<LocalStateNotice>>()));
        }

        return builder.Services.AddServerlessServe(builder.Configuration);
    }
}
