namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>
/// PRADA's per-class threshold T_c and the running statistics behind it: the minimum distances of the queries that
/// joined the class's growing set (after its first). When a query joins with distance d, T_c becomes
/// max(T_c, mean − std) of those distances (population standard deviation), so T_c never falls and the growing set keeps
/// only queries farther from it than what is usual for the caller.
/// </summary>
internal sealed class ClassThreshold
{
    /// <summary>T_c; 0 until a second query joins.</summary>
    public double Threshold { get; private set; }

    /// <summary>Distances recorded (queries that joined after the first).</summary>
    public int Count { get; private set; }

    /// <summary>Their mean.</summary>
    public double Mean { get; private set; }

    /// <summary>Their sum of squared deviations from the mean (Welford's M2).</summary>
    public double SumSquaredDeviations { get; private set; }

    /// <summary>Members of the class in the growing set now.</summary>
    public int Members { get; set; }

    /// <summary>Restores recorded statistics (deserialisation).</summary>
    public static ClassThreshold Restore(double threshold, int count, double mean, double sumSquaredDeviations) => new()
    {
        Threshold = threshold,
        Count = count,
        Mean = mean,
        SumSquaredDeviations = sumSquaredDeviations,
    };

    /// <summary>Records the distance of a query that joined, then raises the threshold if mean − std exceeds it.</summary>
    public void Record(double distance)
    {
        Count++;
        var delta = distance - Mean;
        Mean += delta / Count;
        SumSquaredDeviations += delta * (distance - Mean);
        var std = Math.Sqrt(Math.Max(0.0, SumSquaredDeviations) / Count);
        Threshold = Math.Max(Threshold, Mean - std);
    }
}
