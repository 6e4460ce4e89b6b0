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
        var json = Input(5).ToJson().Replace(",\"ChunksInFlight\":0,\"ChunksInFlightAlone\":0,\"StartedAlone\":false", string.Empty, StringComparison.Ordinal);
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
        var json = (Input(5) with { ChunksInFlight = 2 }).ToJson().Replace(",\"ChunksInFlightAlone\":0,\"StartedAlone\":false", string.Empty, StringComparison.Ordinal);
        Assert.DoesNotContain("Alone", json, StringComparison.Ordinal);

        var parsed = JobInput.Parse(json);

        Assert.Equal(2, parsed.WindowFor(alone: true));
    }

    [Fact]
    public void StepWrittenBeforeTheFlag_IsNotAlone()
    {
        var step = new ChunkStep("job", 0, JobActivities.Audit, new Payload { Inline = "[]" }, Alone: true);
        var json = System.Text.Json.JsonSerializer.Serialize(step).Replace(",\"Alone\":true", string.Empty, StringComparison.Ordinal);
        Assert.DoesNotContain("Alone", json, StringComparison.Ordinal);

        Assert.False(System.Text.Json.JsonSerializer.Deserialize<ChunkStep>(json)!.Alone);
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
