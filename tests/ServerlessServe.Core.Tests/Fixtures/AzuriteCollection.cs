namespace ServerlessServe.Core.Tests.Fixtures;

/// <summary>Tests that share the one <see cref="AzuriteFixture"/> (they run one after another).</summary>
[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}
