using ServerlessServe.Core.Audit;

namespace ServerlessServe.Core.Tests.Audit;

public class CallerPseudonymizerTests
{
    private static readonly byte[] Key = Enumerable.Range(1, 32).Select(static i => (byte)i).ToArray();

    [Fact]
    public void Pseudonymize_SameCaller_SamePseudonymOf32Hex()
    {
        var pseudonymizer = new CallerPseudonymizer(Key);

        var first = pseudonymizer.Pseudonymize("alice@contoso.com");

        Assert.Equal(first, new CallerPseudonymizer(Key).Pseudonymize("alice@contoso.com"));
        Assert.Matches("^[0-9a-f]{32}$", first);
        Assert.DoesNotContain("alice", first, StringComparison.Ordinal);
    }

    [Fact]
    public void Pseudonymize_OtherCallerOrKey_Differs()
    {
        var pseudonymizer = new CallerPseudonymizer(Key);
        var otherKey = (byte[])Key.Clone();
        otherKey[0] ^= 1;

        Assert.NotEqual(pseudonymizer.Pseudonymize("alice"), pseudonymizer.Pseudonymize("bob"));
        Assert.NotEqual(pseudonymizer.Pseudonymize("alice"), new CallerPseudonymizer(otherKey).Pseudonymize("alice"));
    }

    [Fact]
    public void Pseudonymize_NoCaller_Anonymous() =>
        Assert.Equal(CallerPseudonymizer.Anonymous, new CallerPseudonymizer(Key).Pseudonymize(null));

    [Fact]
    public void Constructor_ShortKey_Throws() =>
        Assert.Throws<ArgumentException>(() => new CallerPseudonymizer(new byte[31]));

    [Fact]
    public void ToString_DoesNotRevealTheKey() =>
        Assert.Equal(nameof(CallerPseudonymizer), new CallerPseudonymizer(Key).ToString());

    [Fact]
    public void Pseudonymize_RememberedOrNot_SameValue_PastTheMemoryStillRight()
    {
        // More callers than are remembered, twice over, each asked for twice: every answer is the key's HMAC, as a fresh
        // pseudonymizer (which remembers nothing) computes it.
        var pseudonymizer = new CallerPseudonymizer(Key);
        var callers = Enumerable.Range(0, (2 * CallerPseudonymizer.RememberedCallers) + 7).Select(static i => $"caller-{i}").ToList();
        var first = callers.Select(pseudonymizer.Pseudonymize).ToList();
        var second = callers.Select(pseudonymizer.Pseudonymize).ToList();

        Assert.Equal(first, second);
        var fresh = new CallerPseudonymizer(Key);
        foreach (var i in new[] { 0, 1, CallerPseudonymizer.RememberedCallers - 1, CallerPseudonymizer.RememberedCallers, callers.Count - 1 })
        {
            Assert.Equal(fresh.Pseudonymize(callers[i]), first[i]);
            Assert.Equal(new CallerPseudonymizer(Key).Pseudonymize(callers[i]), second[i]);
        }

        Assert.Equal(callers.Count, first.Distinct(StringComparer.Ordinal).Count());
    }
}
