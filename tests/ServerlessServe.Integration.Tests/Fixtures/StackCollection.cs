namespace ServerlessServe.Integration.Tests.Fixtures;

/// <summary>Every integration test shares one <see cref="StackFixture"/> and runs one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class StackCollection : ICollectionFixture<StackFixture>
{
    public const string Name = "local stack";
}
