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
    private readonly DeadlineOptions _deadlines;
    private readonly Refusal _deadlineRefusal;

    /// <summary>
    /// A pipeline of <paramref name="stages"/> then <paramref name="closing"/>, under <paramref name="deadlines"/>
    /// (default: <see cref="DeadlineOptions"/>' defaults).
    /// </summary>
    public StagePipeline(
        IEnumerable<IRequestStage<TContext>> stages,
        IEnumerable<IRequestStage<TContext>> closing,
        TimeProvider time,
        ILogger<StagePipeline<TContext>> logger,
        DeadlineOptions? deadlines = null)
    {
        ArgumentNullException.ThrowIfNull(stages);
        ArgumentNullException.ThrowIfNull(closing);
        _stages = stages.ToArray();
        _closing = closing.ToArray();
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _deadlines = deadlines ?? new DeadlineOptions();
        _deadlines.Validate();
        _deadlineRefusal = Refusal.Unavailable("the request could not be completed in time; try again later") with
        {
            RetryAfter = _deadlines.RetryAfter,
            Reason = "deadline",
        };
        var names = _stages.Concat(_closing).Select(s => s.Name).ToList();
        if (names.Count != names.Distinct(StringComparer.Ordinal).Count())
        {
            throw new ArgumentException("Stage names must be unique within a pipeline.", nameof(stages));
        }
    }

    /// <summary>
    /// Runs the stages on <paramref name="context"/>: stops at the first refusal, then runs every closing stage (a
    /// closing stage's refusal replaces a pass). Returns the refusal that stands, or null when every stage passed. The
    /// stages share the request's budget (<see cref="DeadlineOptions.Request"/>); each closing stage has its own
    /// (<see cref="DeadlineOptions.Closing"/>) and runs even when the caller has gone.
    /// </summary>
    public async ValueTask<Refusal?> RunAsync(TContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);

        // Flows into every await below and ends with this method (an async method restores its caller's context).
        RequestContext.Current = context;
        using (var deadline = new RequestDeadline(_deadlines.Request, _time, cancellationToken))
        {
            foreach (var stage in _stages)
            {
                if (!await RunBudgetedAsync(stage, context, deadline).ConfigureAwait(false))
                {
                    break;
                }
            }
        }

        foreach (var stage in _closing)
        {
            // Closing stages (audit) must not be skipped because the caller left or the budget ran out: they record what
            // happened. Their own deadline keeps a stalled dependency from holding the answer.
            using var closing = new RequestDeadline(_deadlines.Closing, _time, CancellationToken.None);
            await RunStageAsync(stage, context, closing, CancellationToken.None).ConfigureAwait(false);
        }

        return context.Refusal;
    }

    private async ValueTask<bool> RunBudgetedAsync(IRequestStage<TContext> stage, TContext context, RequestDeadline deadline)
    {
        if (stage is IUnbudgetedStage)
        {
            deadline.Pause();
            try
            {
                return await RunStageAsync(stage, context, deadline).ConfigureAwait(false);
            }
            finally
            {
                deadline.Resume();
            }
        }

        if (_deadlines.Stages.Count > 0 && _deadlines.Stages.TryGetValue(stage.Name, out var cap))
        {
            var remaining = deadline.Remaining;
            using var capped = new RequestDeadline(remaining == Timeout.InfiniteTimeSpan || cap < remaining ? cap : remaining, _time, deadline.Token);
            return await RunStageAsync(stage, context, capped, deadline.Caller).ConfigureAwait(false);
        }

        return await RunStageAsync(stage, context, deadline).ConfigureAwait(false);
    }

    private ValueTask<bool> RunStageAsync(IRequestStage<TContext> stage, TContext context, RequestDeadline deadline) =>
        RunStageAsync(stage, context, deadline, deadline.Caller);

    /// <summary>Runs one stage under <paramref name="deadline"/>; <paramref name="caller"/> tells a departed caller from a deadline.</summary>
    private async ValueTask<bool> RunStageAsync(IRequestStage<TContext> stage, TContext context, RequestDeadline deadline, CancellationToken caller)
    {
        var cancellationToken = deadline.Token;
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
                if (caller.IsCancellationRequested)
                {
                    outcome = Refusal.Cancelled;
                }
                else
                {
                    Log.DeadlineExceeded(_logger, context.RequestId, stage.Name);
                    outcome = _deadlineRefusal;
                }
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
