using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Hosting.DependencyInjection;

/// <summary>Registers a <see cref="StagePipeline{TContext}"/> from its list of stages.</summary>
public static class PipelineBuilderExtensions
{
    /// <summary>
    /// Registers the pipeline for <typeparamref name="TContext"/> with the stages <paramref name="configure"/> lists, in
    /// that order (each stage a singleton). A second call for the same context replaces nothing (<c>TryAdd</c>).
    /// </summary>
    public static IServerlessServeBuilder AddPipeline<TContext>(this IServerlessServeBuilder builder, Action<PipelineBuilder<TContext>> configure)
        where TContext : RequestContext
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddValidatedOptions<DeadlineOptions, DeadlineOptionsValidator>(DeadlineOptions.SectionName);
        var pipeline = new PipelineBuilder<TContext>();
        configure(pipeline);
        foreach (var stage in pipeline.Stages.Concat(pipeline.Closing))
        {
            builder.Services.TryAddSingleton(stage);
        }

        builder.Services.TryAddSingleton(sp => new StagePipeline<TContext>(
            pipeline.Stages.Select(t => (IRequestStage<TContext>)sp.GetRequiredService(t)),
            pipeline.Closing.Select(t => (IRequestStage<TContext>)sp.GetRequiredService(t)),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<StagePipeline<TContext>>>(),
            sp.GetRequiredService<IOptions<DeadlineOptions>>().Value));
        return builder;
    }
}
