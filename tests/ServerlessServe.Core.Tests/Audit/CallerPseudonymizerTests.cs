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
}
