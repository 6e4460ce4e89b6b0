using Microsoft.Extensions.Configuration;
using ServerlessServe.Hosting.Standalone;

namespace ServerlessServe.Hosting.Tests.Functions;

/// <summary>Timer schedules read as the Functions host reads them: NCRONTAB with seconds, five fields, a TimeSpan, an app setting.</summary>
public sealed class StandaloneTimerTests
{
    private static readonly DateTime Start = new(2026, 11, 30, 6, 0, 0, DateTimeKind.Utc);

    [Theory]
    [InlineData("*/2 * * * * *", "2026-11-30T06:00:02")]
    [InlineData("0 */10 * * * *", "2026-11-30T06:10:00")]
    [InlineData("*/5 * * * *", "2026-11-30T06:05:00")]
    [InlineData("00:00:30", "2026-11-30T06:00:30")]
    [InlineData("%Jobs:Purge%", "2026-11-30T06:10:00")]
    public void Schedule_NextOccurrence(string schedule, string expected)
    {
        var next = StandaloneTimers.Schedule(Timer(schedule), Settings(("Jobs:Purge", "0 */10 * * * *")));

        Assert.Equal(DateTime.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), next(Start));
    }

    [Theory]
    [InlineData("%Jobs:Missing%", "is not set")]
    [InlineData("every now and then", "is not an NCRONTAB expression")]
    public void Schedule_Unusable_RefusedAtStart(string schedule, string message)
    {
        var error = Assert.Throws<InvalidOperationException>(() => StandaloneTimers.Schedule(Timer(schedule), Settings()));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    private static TriggeredFunction Timer(string schedule) =>
        new("Purge", "timerTrigger", typeof(StandaloneTimerTests).GetMethod(nameof(Schedule_NextOccurrence))!, new Dictionary<string, string> { ["schedule"] = schedule });

    private static IConfiguration Settings(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();
}
