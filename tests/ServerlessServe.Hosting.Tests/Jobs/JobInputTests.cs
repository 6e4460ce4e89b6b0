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
        var json = Input(5).ToJson().Replace(",\"ChunksInFlight\":0", string.Empty, StringComparison.Ordinal);
        Assert.DoesNotContain("ChunksInFlight", json, StringComparison.Ordinal);

        var parsed = JobInput.Parse(json);

        Assert.Equal(0, parsed.ChunksInFlight);
        Assert.Equal(5, parsed.Window);
    }

    [Fact]
    public void Options_DefaultToTwoChunksAtOnce() => Assert.Equal(2, new JobOptions().ChunksInFlight);

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
