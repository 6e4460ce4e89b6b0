namespace ServerlessServe.Eval.Defenses;

/// <summary>A count out of a total (flagged rows, detected examples, correct predictions), with its share.</summary>
/// <param name="Count">Rows counted.</param>
/// <param name="Total">Rows in all; 0 gives a share of 0.</param>
public sealed record Rate(int Count, int Total)
{
    /// <summary><see cref="Count"/> / <see cref="Total"/>, 0..1 (0 when there is nothing to count).</summary>
    public double Value => Total == 0 ? 0 : Count / (double)Total;

    /// <summary>The rate of rows whose predicate holds.</summary>
    public static Rate Of<T>(IReadOnlyCollection<T> items, Func<T, bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(predicate);
        return new Rate(items.Count(predicate), items.Count);
    }

    /// <summary>Counts and totals added up (a pooled rate).</summary>
    public static Rate Pool(IEnumerable<Rate> rates)
    {
        ArgumentNullException.ThrowIfNull(rates);
        var (count, total) = (0, 0);
        foreach (var rate in rates)
        {
            count += rate.Count;
            total += rate.Total;
        }

        return new Rate(count, total);
    }
}
