namespace ServerlessServe.Core.Tests.Fixtures;

/// <summary>
/// Tests that look into arrays after handing them back to <see cref="System.Buffers.ArrayPool{T}.Shared"/> (to see them
/// wiped). They run alone, after the parallel tests: while another test runs, any of its rentals may take such an array
/// and fill it between the hand-back and the look, as one did in a CI run (a released body buffer full of another test's
/// floats).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SharedPoolCollection
{
    public const string Name = "ArrayPool.Shared, alone";
}
