using ServerlessServe.Core.Security;

namespace ServerlessServe.Core.Tests.Security;

public sealed class CanariesTests
{
    [Fact]
    public void Lookups_OrdinalExactNames()
    {
        var canaries = new Canaries(["payroll-model"], ["break-glass-admin"], CanaryTokens.None, ContainmentAction.None);

        Assert.True(canaries.IsHoneyModel("payroll-model"));
        Assert.False(canaries.IsHoneyModel("payroll-model2"));
        Assert.False(canaries.IsHoneyModel(null));
        Assert.True(canaries.IsHoneySubject("break-glass-admin"));
        Assert.False(canaries.IsHoneySubject("Break-Glass-Admin"));
        Assert.False(Canaries.Off.IsHoneyModel("payroll-model"));
    }

    [Theory]
    [InlineData("Payroll")]
    [InlineData("../payroll")]
    [InlineData("")]
    public void Constructor_HoneyModelNoCallerCanName_Refused(string name) =>
        Assert.Throws<ArgumentException>(() => new Canaries([name], [], CanaryTokens.None, ContainmentAction.None));

    [Fact]
    public void Constructor_EmptyHoneySubject_Refused() =>
        Assert.Throws<ArgumentException>(() => new Canaries([], [" "], CanaryTokens.None, ContainmentAction.None));
}
