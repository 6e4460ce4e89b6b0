namespace ServerlessServe.Eval.Extraction;

/// <summary>How one caller, benign or attacker, chooses its queries, one at a time, until its budget is spent.</summary>
public interface IQueryStrategy
{
    /// <summary>A short name for tables and plots.</summary>
    string Name { get; }

    /// <summary>What the caller sends, in a sentence.</summary>
    string Description { get; }

    /// <summary>Sends queries through <paramref name="oracle"/> until <see cref="IQueryOracle.Remaining"/> is 0.</summary>
    void Run(IQueryOracle oracle);
}
