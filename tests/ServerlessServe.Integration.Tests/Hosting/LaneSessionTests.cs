using System.Globalization;
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
                Assert.NotEqual(Environment.ProcessId, Stat(Environment.ProcessId.ToString(CultureInfo.InvariantCulture))!.Value.Session);
            }

            return;
        }

        Assert.True(LaneSession.Entered, LaneSession.NotEnteredBecause);
        var self = Environment.ProcessId;
        Assert.Equal(self, Stat(self.ToString(CultureInfo.InvariantCulture))!.Value.Session);

        // Every process this one started (Azurite, the Functions hosts) is in the session: none left it.
        var children = Directory.EnumerateDirectories("/proc")
            .Select(Path.GetFileName)
            .Where(name => name!.All(char.IsAsciiDigit))
            .Select(name => Stat(name!))
            .Where(stat => stat is { } s && s.Parent == self)
            .Select(stat => stat!.Value)
            .ToList();
        Assert.NotEmpty(children);
        Assert.All(children, child => Assert.Equal(self, child.Session));
    }

    // Fields 4 (parent) and 6 (session) of /proc/PID/stat, after the command name in parentheses; null once it is gone.
    private static (int Parent, int Session)? Stat(string pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null;
        }

        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        return (int.Parse(fields[1], CultureInfo.InvariantCulture), int.Parse(fields[3], CultureInfo.InvariantCulture));
    }
}
