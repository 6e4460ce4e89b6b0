using Microsoft.Extensions.Logging;
using ServerlessServe.Core.Redaction;

namespace ServerlessServe.Core.Pipeline;

/// <summary>
/// Runs a request's stages in order until one refuses, then its closing stages (such as audit) whatever happened, and
/// records every verdict on the context. The list of stages is the composition: it comes from registration
/// (<c>AddPipeline</c>), so adding a stage is one class and one line.
/// </summary>
public sealed partial class StagePipeline<TContext>
    where TContext : RequestContext
{
    private readonly IReadOnlyList<IRequestStage<TContext>> _stages;
    private readonly IReadOnlyList<IRequestStage<TContext>> _closing;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public StagePipeline(IEnumerable<IRequestStage<TContext>> stages, IEnumerable<IRequestStage<TContext>> closing, TimeProvider time, ILogger<StagePipeline<TContext>> logger)
    {
        ArgumentNullException.ThrowIfNull(stages);
        ArgumentNullException.ThrowIfNull(closing);
        _stages = stages.ToArray();
        _closing = closing.ToArray();
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        var names = _stages.Concat(_closing).Select(s => s.Name).ToList();
        if (names.Count != names.Distinct(StringComparer.Ordinal).Count())
        {
            throw new ArgumentException("Stage names must be unique within a pipeline.", nameof(stages));
        }
    }

    /// <summary>
    /// Runs the stages on <paramref name="context"/>: stops at the first refusal, then runs every closing stage (a
    /// closing stage's refusal replaces a pass). Returns the refusal that stands, or null when every stage passed.
    /// </summary>
    public async ValueTask<Refusal?> RunAsync(TContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);

        // Flows into every await below and ends with this method (an async method restores its caller's context).
        RequestContext.Current = context;
        foreach (var stage in _stages)
        {
            if (!await RunStageAsync(stage, context, cancellationToken).ConfigureAwait(false))
            {
                break;
            }
        }

        foreach (var stage in _closing)
        {
            // Closing stages (audit) must not be skipped because the caller left: they record what happened.
            await RunStageAsync(stage, context, CancellationToken.None).ConfigureAwait(false);
        }

        return context.Refusal;
    }

    private async ValueTask<bool> RunStageAsync(IRequestStage<TContext> stage, TContext context, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        StageOutcome outcome;
        using (var activity = PipelineTelemetry.StartStage(stage.Name))
        {
            try
            {
                outcome = await stage.RunAsync(context, cancellationToken).ConfigureAwait(false);
            }
            catch (RefusedException ex)
            {
                outcome = ex.Refusal;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                outcome = Refusal.Cancelled;
            }
#pragma warning disable CA1031 // Any other failure is the stage's refusal (Failed, nothing echoed); details go to the log.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.StageFailed(_logger, TelemetryRedaction.Exception(ex), context.RequestId, stage.Name);
                outcome = Refusal.Failed;
            }

            activity?.SetTag("serverlessserve.verdict", outcome.Verdict);
        }

        var elapsed = _time.GetElapsedTime(started).TotalMilliseconds;
        PipelineTelemetry.RecordStage(stage.Name, outcome.Verdict, elapsed);
        context.Record(stage.Name, outcome, elapsed);
        if (outcome.Refusal is { } refusal)
        {
            Log.StageRefused(_logger, context.RequestId, stage.Name, refusal.KindName);
            return false;
        }

        return true;
    }
}
