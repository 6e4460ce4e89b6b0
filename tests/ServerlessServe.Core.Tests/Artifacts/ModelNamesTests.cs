using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Core.Tests.Artifacts;

public sealed class ModelNamesTests
{
    [Theory]
    [InlineData("credit-risk", true)]
    [InlineData("resnet18", true)]
    [InlineData("a.b_c-d", true)]
    [InlineData("0", true)]
    [InlineData("", false)]
    [InlineData("Credit", false)]
    [InlineData("-leading", false)]
    [InlineData("../etc", false)]
    [InlineData("a..b", false)]
    [InlineData("a/b", false)]
    [InlineData("a b", false)]
    [InlineData("ünicode", false)]
    public void IsValidName_FollowsThePattern(string name, bool valid)
    {
        Assert.Equal(valid, ModelNames.IsValidName(name));
    }

    [Theory]
    [InlineData("credit-risk\n")]
    [InlineData("credit-risk\r\n")]
    [InlineData("credit-risk\r")]
    [InlineData("\ncredit-risk")]
    [InlineData("credit\nrisk")]
    [InlineData("credit-risk\0")]
    public void IsValidName_LineBreaksAndControls_Refused(string name)
    {
        Assert.False(ModelNames.IsValidName(name));
        Assert.Equal(RefusalKind.Invalid, Assert.Throws<RefusedException>(() => ModelNames.EnsureValidName(name)).Kind);
    }

    [Theory]
    [InlineData("1\n")]
    [InlineData("v2\r\n")]
    [InlineData("\n1")]
    public void IsValidVersion_LineBreaks_Refused(string version)
    {
        Assert.False(ModelNames.IsValidVersion(version));
        Assert.Equal(RefusalKind.Invalid, Assert.Throws<RefusedException>(() => ModelNames.EnsureValidVersion(version)).Kind);
    }

    [Fact]
    public void IsValidName_63CharactersAndNewline_Refused() =>
        Assert.False(ModelNames.IsValidName(new string('a', 63) + "\n"));

    [Fact]
    public void IsValidName_64Characters_Refused()
    {
        Assert.True(ModelNames.IsValidName(new string('a', 63)));
        Assert.False(ModelNames.IsValidName(new string('a', 64)));
    }

    [Theory]
    [InlineData("1", true)]
    [InlineData("2026.01.02", true)]
    [InlineData("v1-RC_2", true)]
    [InlineData(".1", false)]
    [InlineData("1..2", false)]
    [InlineData("1/2", false)]
    [InlineData("", false)]
    public void IsValidVersion_FollowsThePattern(string version, bool valid)
    {
        Assert.Equal(valid, ModelNames.IsValidVersion(version));
    }

    [Fact]
    public void EnsureValidName_Invalid_Throws400WithoutEcho()
    {
        var error = Assert.Throws<RefusedException>(() => ModelNames.EnsureValidName("../secret"));

        Assert.Equal(RefusalKind.Invalid, error.Kind);
        Assert.DoesNotContain("secret", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void VersionComparer_DigitRunsNumerically_RestOrdinal()
    {
        var versions = new List<string> { "10", "9", "2", "b", "a", "010", "1.10", "1.2", "15a" };

        versions.Sort(VersionComparer.Instance);

        Assert.Equal(["1.2", "1.10", "2", "9", "010", "10", "15a", "a", "b"], versions);
    }

    [Fact]
    public void VersionComparer_IsTransitiveOnMixedVersions()
    {
        string[] versions = ["2", "10", "15a", "1.2", "1.10", "a", "01", "1", "v2", "v10"];

        foreach (var a in versions)
        {
            foreach (var b in versions)
            {
                Assert.Equal(Math.Sign(VersionComparer.Instance.Compare(a, b)), -Math.Sign(VersionComparer.Instance.Compare(b, a)));
                foreach (var c in versions)
                {
                    if (VersionComparer.Instance.Compare(a, b) < 0 && VersionComparer.Instance.Compare(b, c) < 0)
                    {
                        Assert.True(VersionComparer.Instance.Compare(a, c) < 0);
                    }
                }
            }
        }
    }
}
