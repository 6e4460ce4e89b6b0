using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace ServerlessServe.Jobs;

/// <summary>
/// Which jobs are running: on this instance, a job counts from its submission here, or the first of its steps that
/// starts here, until every one of its chunks has been audited, it is cancelled or withdrawn here, or none of its
/// steps has started here for <see cref="JobOptions.AloneAfter"/> (a job that failed, or finished on another
/// instance). What the other instances see comes from the traffic board (<see cref="JobTrafficBoard"/>, set by
/// <see cref="SeenElsewhere"/>), while it is fresh. A job is alone (<see cref="Around"/>) when no other job counts
/// anywhere; such a job may run <see cref="JobOptions.ChunksInFlightAlone"/> chunks at once instead of
/// <see cref="JobOptions.ChunksInFlight"/> (docs/design.md, "A share of the task hub per caller"); a caller with several
/// jobs beside another caller's shares the window among them (<see cref="JobInput.WindowAfter"/>).
/// </summary>
public sealed class JobTraffic(TimeProvider time, IOptions<JobOptions> options)
{
    // Past this many jobs at once, the memory is emptied and refills with the jobs seen from then on: memory stays
    // bounded whatever arrives, and the jobs that are running are seen again at their next step.
    private const int MaxTracked = 16_384;

    private readonly ConcurrentDictionary<string, Sighting> _running = new(StringComparer.Ordinal);
    private Elsewhere _elsewhere = Elsewhere.Never;

    /// <summary>The job was submitted, or one of its steps started, on this instance now; it has <paramref name="chunks"/> chunks (0: not known here).</summary>
    public void Saw(string jobId, int chunks = 0)
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

        _running.GetOrAdd(jobId, static _ => new Sighting()).Touch(time.GetTimestamp(), chunks);
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

    /// <summary>The jobs this instance counts as running, each with how many of its chunks were audited here: what it posts on the board.</summary>
    public IReadOnlyList<PostedJob> Posted()
    {
        Prune(time.GetTimestamp());
        return [.. _running.Select(j => new PostedJob(j.Key, j.Value.AuditedCount, j.Value.Chunks))];
    }

    /// <summary>
    /// What the other instances posted, read from the board now: each job with the chunks audited there (summed over
    /// the instances) and its chunk count; <paramref name="unlisted"/> jobs more that did not fit in their rows.
    /// </summary>
    public void SeenElsewhere(IReadOnlyDictionary<string, PostedJob> jobs, int unlisted)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        Volatile.Write(ref _elsewhere, new Elsewhere(jobs, unlisted, time.GetTimestamp()));
    }

    /// <summary>How long ago the board was last read (<see cref="TimeSpan.MaxValue"/>: never).</summary>
    public TimeSpan ElsewhereAge
    {
        get
        {
            var elsewhere = Volatile.Read(ref _elsewhere);
            return elsewhere.At == 0 ? TimeSpan.MaxValue : time.GetElapsedTime(elsewhere.At);
        }
    }

    /// <summary>
    /// What runs beside the job on this instance and, while the board's copy is fresh (read less than three
    /// <see cref="JobOptions.TrafficInterval"/>s ago), on the others: whether it is alone, how many jobs of its caller
    /// run (itself included), and whether any other caller's job runs. A job's caller is the tag its id starts with
    /// (<see cref="JobEndpoints.CallerTag"/>). A job whose chunks were all audited, here and elsewhere together, no
    /// longer counts.
    /// </summary>
    public JobSurroundings Around(string jobId)
    {
        ArgumentNullException.ThrowIfNull(jobId);
        var now = time.GetTimestamp();
        Prune(now);
        var elsewhere = Volatile.Read(ref _elsewhere);
        var fresh = elsewhere.At != 0 && time.GetElapsedTime(elsewhere.At, now) < 3 * options.Value.TrafficInterval;
        var jobs = fresh ? elsewhere.Jobs : Elsewhere.Never.Jobs;
        var (alone, callerJobs, otherCallers) = (true, 1, false);
        void Count(string other)
        {
            alone = false;
            if (Tag(jobId).SequenceEqual(Tag(other)))
            {
                callerJobs++;
            }
            else
            {
                otherCallers = true;
            }
        }

        foreach (var (other, sighting) in _running)
        {
            if (string.Equals(other, jobId, StringComparison.Ordinal))
            {
                continue;
            }

            var posted = jobs.GetValueOrDefault(other);
            if (!AllAudited(sighting.AuditedCount + posted.Audited, Math.Max(sighting.Chunks, posted.Chunks)))
            {
                Count(other);
            }
        }

        foreach (var (other, posted) in jobs)
        {
            if (!string.Equals(other, jobId, StringComparison.Ordinal) && !_running.ContainsKey(other) && !AllAudited(posted.Audited, posted.Chunks))
            {
                Count(other);
            }
        }

        if (fresh && elsewhere.Unlisted > 0)
        {
            // Jobs another instance runs but could not list: of unknown callers, so counted as another caller's.
            alone = false;
            otherCallers = true;
        }

        return new JobSurroundings(alone, callerJobs, otherCallers);
    }

    private static bool AllAudited(int audited, int chunks) => chunks > 0 && audited >= chunks;

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

    private sealed record Elsewhere(IReadOnlyDictionary<string, PostedJob> Jobs, int Unlisted, long At)
    {
        public static readonly Elsewhere Never = new(new Dictionary<string, PostedJob>(StringComparer.Ordinal), 0, 0);
    }

    private sealed class Sighting
    {
        private readonly HashSet<int> _audited = [];
        private long _last;
        private int _chunks;

        public long Last => Interlocked.Read(ref _last);

        public int Chunks => Volatile.Read(ref _chunks);

        public int AuditedCount
        {
            get
            {
                lock (_audited)
                {
                    return _audited.Count;
                }
            }
        }

        public void Touch(long now, int chunks)
        {
            Interlocked.Exchange(ref _last, now);
            if (chunks > 0)
            {
                Volatile.Write(ref _chunks, chunks);
            }
        }

        // True once every chunk has been audited here (each counted once, however often its audit step ran).
        public bool Audited(int chunk, int chunks)
        {
            if (chunks > 0)
            {
                Volatile.Write(ref _chunks, chunks);
            }

            lock (_audited)
            {
                _audited.Add(chunk);
                return _audited.Count >= chunks;
            }
        }
    }
}

/// <summary>What runs beside a job (<see cref="JobTraffic.Around"/>).</summary>
/// <param name="Alone">No other job runs.</param>
/// <param name="CallerJobs">Jobs of the same caller that run, this one included.</param>
/// <param name="OtherCallers">Some other caller's job runs.</param>
public readonly record struct JobSurroundings(bool Alone, int CallerJobs, bool OtherCallers);

/// <summary>A job as an instance posts it on the traffic board: its id, the chunks audited there, and its chunk count (0: not known there).</summary>
public readonly record struct PostedJob(string Id, int Audited, int Chunks);
