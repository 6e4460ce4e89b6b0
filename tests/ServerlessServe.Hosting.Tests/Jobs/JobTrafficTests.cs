using Microsoft.Extensions.Time.Testing;
using ServerlessServe.Jobs;

namespace ServerlessServe.Hosting.Tests.Jobs;

/// <summary>
/// Whether a job is alone on its instance, which decides whether it may run more of its chunks at once: no other job
/// submitted or stepping here that has not finished, been cancelled, or gone quiet for a minute.
/// </summary>
public sealed class JobTrafficTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly JobTraffic _traffic;

    public JobTrafficTests() => _traffic = new JobTraffic(_time, Microsoft.Extensions.Options.Options.Create(new JobOptions()));

    [Fact]
    public void NothingElseRunning_Alone_ItsOwnStepsDoNotCount()
    {
        Assert.True(_traffic.Around("a").Alone);
        _traffic.Saw("a");
        _time.Advance(TimeSpan.FromSeconds(1));
        _traffic.Saw("a");

        Assert.True(_traffic.Around("a").Alone);
    }

    [Fact]
    public void AnotherJobRunning_NotAlone_UntilEveryChunkOfItIsAudited()
    {
        _traffic.Saw("a");
        _traffic.Saw("b");
        Assert.False(_traffic.Around("a").Alone);
        Assert.False(_traffic.Around("c").Alone);

        // b has three chunks; an audit step run twice for the same chunk counts once.
        _traffic.Audited("b", 0, 3);
        _traffic.Audited("b", 0, 3);
        _traffic.Audited("b", 2, 3);
        Assert.False(_traffic.Around("a").Alone);
        _traffic.Audited("b", 1, 3);

        Assert.True(_traffic.Around("a").Alone);
        Assert.False(_traffic.Around("b").Alone);
    }

    [Fact]
    public void Around_CountsTheCallersJobs_AndSeesOtherCallers()
    {
        // A job id starts with its caller's 8-hex-digit tag.
        _traffic.Saw(Job("aaaaaaaa", 1));
        _traffic.Saw(Job("aaaaaaaa", 2));
        _traffic.Saw(Job("aaaaaaaa", 3));

        Assert.Equal(new JobSurroundings(false, 3, false), _traffic.Around(Job("aaaaaaaa", 1)));
        Assert.Equal(new JobSurroundings(false, 4, false), _traffic.Around(Job("aaaaaaaa", 4)));

        _traffic.Saw(Job("bbbbbbbb", 1));
        Assert.Equal(new JobSurroundings(false, 3, true), _traffic.Around(Job("aaaaaaaa", 2)));
        Assert.Equal(new JobSurroundings(false, 1, true), _traffic.Around(Job("bbbbbbbb", 1)));

        _traffic.Ended(Job("aaaaaaaa", 1));
        _traffic.Ended(Job("aaaaaaaa", 2));
        _traffic.Ended(Job("aaaaaaaa", 3));
        Assert.Equal(new JobSurroundings(true, 1, false), _traffic.Around(Job("bbbbbbbb", 1)));
    }

    [Fact]
    public void ACancelledJob_NoLongerCounts()
    {
        _traffic.Saw("a");
        _traffic.Saw("b");
        _traffic.Ended("b");

        Assert.True(_traffic.Around("a").Alone);
    }

    [Fact]
    public void AJobQuietForAMinute_NoLongerCounts()
    {
        // A job that failed, or whose last chunk was audited on another instance.
        _traffic.Saw("b");
        _time.Advance(TimeSpan.FromSeconds(59));
        _traffic.Saw("a");
        Assert.False(_traffic.Around("a").Alone);

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(_traffic.Around("a").Alone);
        Assert.False(_traffic.Around("b").Alone);
    }

    [Fact]
    public void ManyJobs_MemoryStaysBounded_AndTheRunningOnesAreSeenAgain()
    {
        for (var i = 0; i < 40_000; i++)
        {
            _traffic.Saw("job" + i);
        }

        // Past 16,384 at once the memory is emptied and refills: still never alone while others were just seen.
        Assert.False(_traffic.Around("job0").Alone);
        _time.Advance(TimeSpan.FromMinutes(2));
        _traffic.Saw("late");
        Assert.True(_traffic.Around("late").Alone);
        Assert.False(_traffic.Around("job1").Alone);
    }

    [Fact]
    public void JobsPostedElsewhere_Count_WhileTheBoardsCopyIsFresh()
    {
        // Read from the traffic board: another instance runs another caller's job of three chunks.
        _traffic.SeenElsewhere(Posted(new PostedJob(Job("bbbbbbbb", 1), 0, 3), new PostedJob(Job("aaaaaaaa", 2), 1, 3)), 0);

        Assert.Equal(new JobSurroundings(false, 2, true), _traffic.Around(Job("aaaaaaaa", 1)));

        // Not read again for three intervals (2 s each): that instance's jobs no longer count.
        _time.Advance(TimeSpan.FromSeconds(5.9));
        Assert.False(_traffic.Around(Job("aaaaaaaa", 1)).Alone);
        _time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Equal(new JobSurroundings(true, 1, false), _traffic.Around(Job("aaaaaaaa", 1)));
    }

    [Fact]
    public void AJobWhoseChunksWereAuditedHereAndElsewhere_NoLongerCounts()
    {
        // Four chunks: two audited here, two on another instance. Neither instance saw all four.
        _traffic.Saw("b", 4);
        _traffic.Audited("b", 0, 4);
        _traffic.Audited("b", 3, 4);
        Assert.False(_traffic.Around("a").Alone);

        _traffic.SeenElsewhere(Posted(new PostedJob("b", 1, 4)), 0);
        Assert.False(_traffic.Around("a").Alone);
        _traffic.SeenElsewhere(Posted(new PostedJob("b", 2, 4)), 0);
        Assert.True(_traffic.Around("a").Alone);
    }

    [Fact]
    public void JobsElsewhereThatDidNotFitInTheirRow_CountAsAnotherCallers()
    {
        _traffic.SeenElsewhere(Posted(), 3);

        Assert.Equal(new JobSurroundings(false, 1, true), _traffic.Around(Job("aaaaaaaa", 1)));
    }

    [Fact]
    public void Posted_TheJobsSeenHere_WithTheChunksAuditedHere()
    {
        _traffic.Saw("a", 5);
        _traffic.Saw("b");
        _traffic.Audited("a", 1, 5);
        _traffic.Audited("a", 1, 5);
        _traffic.Audited("a", 4, 5);

        Assert.Equal([new PostedJob("a", 2, 5), new PostedJob("b", 0, 0)], _traffic.Posted().OrderBy(j => j.Id, StringComparer.Ordinal));
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Empty(_traffic.Posted());
    }

    private static string Job(string tag, int n) => tag + n.ToString("x24", System.Globalization.CultureInfo.InvariantCulture);

    private static Dictionary<string, PostedJob> Posted(params PostedJob[] jobs) => jobs.ToDictionary(j => j.Id, StringComparer.Ordinal);
}
