using ServerlessServe.Jobs;

namespace ServerlessServe.Hosting.Tests.Jobs;

/// <summary>
/// How many of a job's chunks run at once, as its orchestration reads it from the job's input: the setting taken at
/// submission, never more than the chunks there are, and all of them for a job submitted before the setting existed
/// (its history already scheduled them all, and a replay must schedule the same).
/// </summary>
public sealed class JobInputTests
{
    [Theory]
    [InlineData(2, 5, 2)]
    [InlineData(2, 1, 1)]
    [InlineData(1, 3, 1)]
    [InlineData(10, 4, 4)]
    public void Window_IsTheSettingAtSubmission_AtMostTheChunks(int inFlight, int chunks, int window)
    {
        var input = Input(chunks) with { ChunksInFlight = inFlight };

        Assert.Equal(window, JobInput.Parse(input.ToJson()).Window);
    }

    [Fact]
    public void InputWrittenBeforeTheSetting_RunsEveryChunkAtOnce()
    {
        var json = Input(5).ToJson().Replace(",\"ChunksInFlight\":0,\"ChunksInFlightAlone\":0,\"StartedAlone\":false,\"StartedCallerJobs\":0,\"StartedBesideOtherCallers\":false", string.Empty, StringComparison.Ordinal);
        Assert.DoesNotContain("ChunksInFlight", json, StringComparison.Ordinal);
        Assert.DoesNotContain("StartedAlone", json, StringComparison.Ordinal);

        var parsed = JobInput.Parse(json);

        Assert.Equal(0, parsed.ChunksInFlight);
        Assert.Equal(5, parsed.Window);
        Assert.False(parsed.StartedAlone);
        Assert.Equal(5, parsed.WindowFor(alone: true));
    }

    [Theory]
    [InlineData(2, 5, 5, 5, 2)]
    [InlineData(2, 5, 3, 3, 2)]
    [InlineData(2, 10, 4, 4, 2)]
    [InlineData(2, 0, 5, 2, 2)]
    [InlineData(2, 2, 5, 2, 2)]
    [InlineData(2, 1, 5, 2, 2)]
    [InlineData(1, 5, 1, 1, 1)]
    public void WindowFor_AloneWidensToTheSetting_AtMostTheChunks_NeverNarrower(int inFlight, int inFlightAlone, int chunks, int alone, int joined)
    {
        var input = JobInput.Parse((Input(chunks) with { ChunksInFlight = inFlight, ChunksInFlightAlone = inFlightAlone, StartedAlone = true }).ToJson());

        Assert.True(input.StartedAlone);
        Assert.Equal(alone, input.WindowFor(alone: true));
        Assert.Equal(joined, input.WindowFor(alone: false));
    }

    [Fact]
    public void InputWrittenBeforeTheAloneSetting_NeverWidens()
    {
        // A job submitted with the window of two but before a lone job could widen: its replay must schedule as it did.
        var json = (Input(5) with { ChunksInFlight = 2 }).ToJson().Replace(",\"ChunksInFlightAlone\":0,\"StartedAlone\":false,\"StartedCallerJobs\":0,\"StartedBesideOtherCallers\":false", string.Empty, StringComparison.Ordinal);
        Assert.DoesNotContain("Alone", json, StringComparison.Ordinal);

        var parsed = JobInput.Parse(json);

        Assert.Equal(2, parsed.WindowFor(alone: true));
        Assert.Equal(2, parsed.FirstWindow);
        Assert.Equal(2, parsed.WindowAfter(new ChunkStep("job", 0, JobActivities.Audit, new Payload { Inline = "[]" }, Alone: true)));
    }

    [Theory]
    [InlineData(true, 1, false, 5)]
    [InlineData(false, 1, false, 2)]
    [InlineData(false, 3, false, 2)]
    [InlineData(false, 1, true, 2)]
    [InlineData(false, 2, true, 1)]
    [InlineData(false, 10, true, 1)]
    [InlineData(false, 0, false, 2)]
    public void WindowAfter_WiderAlone_SharedAmongACallersJobsBesideAnothers(bool alone, int callerJobs, bool otherCallers, int window)
    {
        var input = Input(5) with { ChunksInFlight = 2, ChunksInFlightAlone = 5, StartedAlone = alone, StartedCallerJobs = callerJobs, StartedBesideOtherCallers = otherCallers };
        var audited = new ChunkStep("job", 0, JobActivities.Audit, new Payload { Inline = "[]" }, Alone: alone, CallerJobs: callerJobs, OtherCallers: otherCallers);

        Assert.Equal(window, input.WindowAfter(audited));
        Assert.Equal(window, JobInput.Parse(input.ToJson()).FirstWindow);
    }

    [Theory]
    [InlineData(2, 5)]
    [InlineData(3, 3)]
    [InlineData(4, 2)]
    [InlineData(11, 1)]
    public void WindowAfter_ACallersJobsTogetherKeepToAboutOneWindow(int callerJobs, int window)
    {
        // Ten chunks at once by the operator's choice: three jobs beside another caller's get three each.
        var input = Input(10) with { ChunksInFlight = 10 };
        var audited = new ChunkStep("job", 0, JobActivities.Audit, new Payload { Inline = "[]" }, CallerJobs: callerJobs, OtherCallers: true);

        Assert.Equal(window, input.WindowAfter(audited));
    }

    [Fact]
    public void StepWrittenBeforeTheFlag_IsNotAlone()
    {
        var step = new ChunkStep("job", 0, JobActivities.Audit, new Payload { Inline = "[]" }, Alone: true);
        var json = System.Text.Json.JsonSerializer.Serialize(step).Replace(",\"Alone\":true,\"CallerJobs\":0,\"OtherCallers\":false", string.Empty, StringComparison.Ordinal);
        Assert.DoesNotContain("Alone", json, StringComparison.Ordinal);
        Assert.DoesNotContain("Callers", json, StringComparison.Ordinal);

        var parsed = System.Text.Json.JsonSerializer.Deserialize<ChunkStep>(json)!;
        Assert.False(parsed.Alone);
        Assert.Equal(2, (Input(5) with { ChunksInFlight = 2, ChunksInFlightAlone = 5 }).WindowAfter(parsed));
    }

    [Fact]
    public void Options_DefaultToTwoChunksAtOnce_FiveAlone()
    {
        Assert.Equal(2, new JobOptions().ChunksInFlight);
        Assert.Equal(5, new JobOptions().ChunksInFlightAlone);
        Assert.Equal(TimeSpan.FromMinutes(1), new JobOptions().AloneAfter);
    }

    private static JobInput Input(int chunks) => new(
        "631fe384" + new string('a', 24),
        "credit-risk",
        "1",
        "caller",
        [],
        chunks * 200,
        200,
        Enumerable.Range(0, chunks).Select(_ => new Payload { Blob = "jobs/x/y", Sha256 = new string('0', 64), Bytes = 10 }).ToList());
}
