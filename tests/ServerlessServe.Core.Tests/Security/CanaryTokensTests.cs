using System.Security.Cryptography;
using System.Text;
using ServerlessServe.Core.Security;

namespace ServerlessServe.Core.Tests.Security;

public sealed class CanaryTokensTests
{
    private const string First = "RK-7F3Q-MZ8W-K2XD-P9LT";
    private const string Second = "canary.value_two~0123456789";

    [Fact]
    public void IdOf_First12HexOfTheValuesSha256()
    {
        var expected = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(First)))[..12];

        Assert.Equal(expected, CanaryTokens.IdOf(First));
        Assert.Equal([expected, CanaryTokens.IdOf(Second)], new CanaryTokens([First, Second, First]).Ids);
    }

    [Theory]
    [InlineData("short-value-15c")]
    [InlineData("has a space in it here")]
    [InlineData("quote\"inside-the-value")]
    [InlineData("percent%20encoded-value")]
    [InlineData("non-ascii-valueé-here")]
    public void Constructor_InvalidValue_RefusedWithoutEchoingIt(string value)
    {
        var error = Assert.Throws<ArgumentException>(() => new CanaryTokens([First, value]));

        Assert.Contains("Canary value 1", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(value, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IsValid_LengthBounds()
    {
        Assert.True(CanaryTokens.IsValid(new string('a', CanaryTokens.MinLength)));
        Assert.True(CanaryTokens.IsValid(new string('a', CanaryTokens.MaxLength)));
        Assert.False(CanaryTokens.IsValid(new string('a', CanaryTokens.MinLength - 1)));
        Assert.False(CanaryTokens.IsValid(new string('a', CanaryTokens.MaxLength + 1)));
        Assert.False(CanaryTokens.IsValid(null));
    }

    [Theory]
    [InlineData("note: " + First + ".", true)]
    [InlineData("https://exfil.example/?q=" + First, true)]
    [InlineData(First, true)]
    [InlineData("RK-7F3Q-MZ8W-K2XD-P9L", false)]
    [InlineData("rk-7f3q-mz8w-k2xd-p9lt", false)]
    [InlineData("", false)]
    public void AnyIn_TextAndUtf8_OrdinalSubstring(string text, bool found)
    {
        var tokens = new CanaryTokens([First, Second]);

        Assert.Equal(found, tokens.AnyIn(text.AsSpan()));
        Assert.Equal(found, tokens.AnyIn(Encoding.UTF8.GetBytes(text)));
    }

    [Fact]
    public void FindIn_BothValues_BothIdsOnce()
    {
        var tokens = new CanaryTokens([First, Second]);
        var text = $"{Second} … {First} … {First}";
        var fromText = new HashSet<string>();
        var fromBytes = new HashSet<string>();

        tokens.FindIn(text.AsSpan(), fromText);
        tokens.FindIn(Encoding.UTF8.GetBytes(text), fromBytes);

        Assert.Equal(tokens.Ids.ToHashSet(), fromText);
        Assert.Equal(fromText, fromBytes);
        Assert.Equal(string.Join(',', tokens.Ids.Order(StringComparer.Ordinal)), CanaryTokens.Join(fromText));
    }

    [Fact]
    public void None_FindsNothing()
    {
        var ids = new HashSet<string>();

        CanaryTokens.None.FindIn(First.AsSpan(), ids);

        Assert.True(CanaryTokens.None.IsEmpty);
        Assert.False(CanaryTokens.None.AnyIn(First.AsSpan()));
        Assert.False(CanaryTokens.None.AnyIn(Encoding.UTF8.GetBytes(First)));
        Assert.Empty(ids);
    }

    [Fact]
    public void ToString_NeverTheValues() =>
        Assert.DoesNotContain(First, new CanaryTokens([First]).ToString(), StringComparison.Ordinal);
}
