namespace ServerlessServe.Core.Pipeline;

/// <summary>
/// One named step of a request with one job: it reads what earlier stages left on the context, adds its own result, and
/// passes or refuses. A stage never knows HTTP; it may throw <see cref="RefusedException"/> from deep inside a parse
/// (the pipeline turns that into a refusal), and any other exception is recorded as <see cref="RefusalKind.Failed"/>.
/// </summary>
/// <typeparam name="TContext">The request context it works on (contravariant: a stage written for a base context runs
/// in any pipeline whose context derives from it).</typeparam>
public interface IRequestStage<in TContext>
    where TContext : RequestContext
{
    /// <summary>The stage's name in verdicts, audit records, logs and metrics, e.g. <c>validate</c>.</summary>
    string Name { get; }

    /// <summary>Runs the stage on <paramref name="context"/>.</summary>
    ValueTask<StageOutcome> RunAsync(TContext context, CancellationToken cancellationToken);
}
