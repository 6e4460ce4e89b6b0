using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Hosting.DependencyInjection;

/// <summary>
/// The stages of one pipeline, in the order they run: <see cref="Add{TStage}"/> for the request's stages (the first
/// refusal stops them), <see cref="Finally{TStage}"/> for closing stages that run whatever happened (audit).
/// </summary>
public sealed class PipelineBuilder<TContext>
    where TContext : RequestContext
{
    internal List<Type> Stages { get; } = [];

    internal List<Type> Closing { get; } = [];

    /// <summary>Appends a stage.</summary>
    public PipelineBuilder<TContext> Add<TStage>()
        where TStage : class, IRequestStage<TContext>
    {
        Stages.Add(typeof(TStage));
        return this;
    }

    /// <summary>Appends a closing stage: it runs after the others whether they passed or not.</summary>
    public PipelineBuilder<TContext> Finally<TStage>()
        where TStage : class, IRequestStage<TContext>
    {
        Closing.Add(typeof(TStage));
        return this;
    }
}
