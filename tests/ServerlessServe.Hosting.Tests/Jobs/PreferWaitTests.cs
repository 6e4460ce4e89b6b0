using ServerlessServe.Jobs;

namespace ServerlessServe.Hosting.Tests.Jobs;

public sealed class PreferWaitTests
{
    [Theory]
    [InlineData("wait=10", 10)]
    [InlineData("respond-async, wait=5", 5)]
    [InlineData("WAIT = 7", 7)]
    [InlineData("wait=\"3\"", 3)]
    [InlineData("handling=lenient; x=1, wait=0", 0)]
    [InlineData("wait=12;foo=bar", 12)]
    public void Parse_ReadsTheWaitPreference(string header, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), PreferWait.Parse([header]));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("respond-async")]
    [InlineData("wait")]
    [InlineData("wait=")]
    [InlineData("wait=-1")]
    [InlineData("wait=1.5")]
    [InlineData("wait=9999999")]
    [InlineData("wait=abc")]
    [InlineData("waiting=4")]
    public void Parse_NoUsableWait_IsNull(string? header) =>
        Assert.Null(PreferWait.Parse([header]));

    [Fact]
    public void Parse_TheFirstWaitOfSeveralHeadersCounts() =>
        Assert.Equal(TimeSpan.FromSeconds(2), PreferWait.Parse(["respond-async", "wait=2", "wait=9"]));
}
