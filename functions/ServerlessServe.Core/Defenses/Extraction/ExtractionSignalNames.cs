namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>The names of <see cref="ExtractionSignals"/> in security events and logs: <c>distanceDistribution</c>, <c>volume</c>, <c>coverage</c>,
/// <c>outOfDistribution</c>.</summary>
public static class ExtractionSignalNames
{
    /// <summary>The signals' names joined by commas, in flag order; <c>none</c> for none.</summary>
    public static string Format(ExtractionSignals signals)
    {
        if (signals == ExtractionSignals.None)
        {
            return "none";
        }

        var names = new List<string>(4);
        if (signals.HasFlag(ExtractionSignals.DistanceDistribution))
        {
            names.Add("distanceDistribution");
        }

        if (signals.HasFlag(ExtractionSignals.Volume))
        {
            names.Add("volume");
        }

        if (signals.HasFlag(ExtractionSignals.Coverage))
        {
            names.Add("coverage");
        }

        if (signals.HasFlag(ExtractionSignals.OutOfDistribution))
        {
            names.Add("outOfDistribution");
        }

        return string.Join(',', names);
    }
}
