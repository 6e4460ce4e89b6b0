using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ServerlessServe.Hosting.DependencyInjection;

internal sealed class ServerlessServeBuilder(IServiceCollection services, IConfiguration configuration) : IServerlessServeBuilder
{
    public IServiceCollection Services { get; } = services;

    public IConfiguration Configuration { get; } = configuration;
}
