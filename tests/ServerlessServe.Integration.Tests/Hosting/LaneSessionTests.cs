using ServerlessServe.Hosting.Functions;
using ServerlessServe.Integration.Tests.Fixtures;

namespace ServerlessServe.Integration.Tests.Hosting;

/// <summary>
/// The Functions-host lane leads a session of its own and its stack runs in it (<see cref="LaneSession"/>): the
/// scheduler then shares the CPU between that lane and the rest of the run, not between every busy thread. The
/// standalone lane stays in the run's session.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class LaneSessionTests(StackFixture fixture)
{
    [StackFact]
    public void HostLane_LeadsItsOwnSession_ItsStackInIt_StandaloneLaneDoesNot()
    {
        Assert.NotNull(fixture.Stack);
        if (!LaneSession.Wanted)
        {
            Assert.False(LaneSession.Entered);
            if (OperatingSystem.IsLinux())
            {
                Assert.NotEqual(Environment.ProcessId, ProcessStat.Session("self"));
            }

            return;
        }

        Assert.True(LaneSession.Entered, LaneSession.NotEnteredBecause);
        var self = Environment.ProcessId;
        Assert.Equal(self, ProcessStat.Session("self"));

        // Every process this one started (Azurite, the Functions hosts) is in the session: none left it.
        var children = Directory.EnumerateDirectories("/proc")
            .Select(Path.GetFileName)
            .Where(name => name!.All(char.IsAsciiDigit))
            .Select(name => (Parent: ProcessStat.Read(name!)?.Parent, Session: ProcessStat.Session(name!)))
            .Where(child => child.Parent == self && child.Session is not null)
            .ToList();
        Assert.NotEmpty(children);
        Assert.All(children, child => Assert.Equal(self, child.Session));
    }
}
