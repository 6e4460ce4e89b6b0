using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace ServerlessServe.Jobs;

/// <summary>
/// Which jobs are running on this instance: a job counts from its submission here, or the first of its steps that
/// starts here, until every one of its chunks has been audited here, it is cancelled or withdrawn here, or none of
/// its steps has started here for <see cref="JobOptions.AloneAfter"/> (a job that failed, or finished on another
/// instance). A job is alone (<see cref="Around"/>) when no other job counts; such a job may run
/// <see cref="JobOptions.ChunksInFlightAlone"/> chunks at once instead of <see cref="JobOptions.ChunksInFlight"/>
/// (docs/design.md, "A share of the task hub per caller"); a caller with several jobs beside another caller's shares
/// the window among them (<see cref="JobInput.WindowAfter"/>). With several instances, each answers for what it sees.
/// </summary>
public sealed class JobTraffic(TimeProvider time, IOptions<JobOptions> options)
{
    // Past this many jobs at once, the memory is emptied and refills with the jobs seen from then on: memory stays
    // bounded whatever arrives, and the jobs that are running are seen again at their next step.
    private const int MaxTracked = 16_384;

    private readonly ConcurrentDictionary<string, Sighting> _running = new(StringComparer.Ordinal);

    /// <summary>The job was submitted, or one of its steps started, on this instance now.</summary>
    public void Saw(string jobId)
    {
        ArgumentNullException.ThrowIfNull(jobId);
        if (_running.Count >= MaxTracked && !_running.ContainsKey(jobId))
        {
            Prune(time.GetTimestamp());
            if (_running.Count >= MaxTracked)
            {
                _running.Clear();
            }
        }

        _running.GetOrAdd(jobId, static _ => new Sighting()).Touch(time.GetTimestamp());
    }

    /// <summary>Chunk <paramref name="chunk"/> of the job's <paramref name="chunks"/> was audited here; once all were, the job no longer counts.</summary>
    public void Audited(string jobId, int chunk, int chunks)
    {
        ArgumentNullException.ThrowIfNull(jobId);
        if (_running.TryGetValue(jobId, out var sighting) && sighting.Audited(chunk, chunks))
        {
            _running.TryRemove(new KeyValuePair<string, Sighting>(jobId, sighting));
        }
    }

    /// <summary>The job was cancelled or withdrawn: it no longer counts.</summary>
    public void Ended(string jobId)
    {
        ArgumentNullException.ThrowIfNull(jobId);
        _running.TryRemove(jobId, out _);
    }

    /// <summary>
    /// What runs beside the job on this instance: whether it is alone, how many jobs of its caller run (itself
    /// included), and whether any other caller's job runs. A job's caller is the tag its id starts with
    /// (<see cref="JobEndpoints.CallerTag"/>).
    /// </summary>
    public JobSurroundings Around(string jobId)
    {
        ArgumentNullException.ThrowIfNull(jobId);
        Prune(time.GetTimestamp());
        var tag = Tag(jobId);
        var (alone, callerJobs, otherCallers) = (true, 1, false);
        foreach (var other in _running.Keys)
        {
            if (string.Equals(other, jobId, StringComparison.Ordinal))
            {
                continue;
            }

            alone = false;
            if (tag.SequenceEqual(Tag(other)))
            {
                callerJobs++;
            }
            else
            {
                otherCallers = true;
            }
        }

        return new JobSurroundings(alone, callerJobs, otherCallers);
    }

    private static ReadOnlySpan<char> Tag(string jobId) => jobId.AsSpan(0, Math.Min(8, jobId.Length));

    private void Prune(long now)
    {
        var after = options.Value.AloneAfter;
        foreach (var (job, sighting) in _running)
        {
            if (time.GetElapsedTime(sighting.Last, now) >= after)
            {
                _running.TryRemove(new KeyValuePair<string, Sighting>(job, sighting));
            }
        }
    }

    private sealed class Sighting
    {
        private readonly HashSet<int> _audited = [];
        private long _last;

        public long Last => Interlocked.Read(ref _last);

        public void Touch(long now) => Interlocked.Exchange(ref _last, now);

        // True once every chunk has been audited (each counted once, however often its audit step ran).
        public bool Audited(int chunk, int chunks)
        {
            lock (_audited)
            {
                _audited.Add(chunk);
                return _audited.Count >= chunks;
            }
        }
    }
}

/// <summary>What runs beside a job on its instance (<see cref="JobTraffic.Around"/>).</summary>
/// <param name="Alone">No other job runs.</param>
/// <param name="CallerJobs">Jobs of the same caller that run, this one included.</param>
/// <param name="OtherCallers">Some other caller's job runs.</param>
public readonly record struct JobSurroundings(bool Alone, int CallerJobs, bool OtherCallers);
