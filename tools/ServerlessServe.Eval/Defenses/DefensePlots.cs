using System.Globalization;
using ScottPlot;
using ServerlessServe.Eval.Extraction;

namespace ServerlessServe.Eval.Defenses;

/// <summary>ROC curves of the defenses as PNG files (ScottPlot 5, rendered by SkiaSharp).</summary>
public static class DefensePlots
{
    /// <summary>The OOD screen's ROC curve: held-out digits against all foreign rows.</summary>
    public const string OodFile = "ood-roc.png";

    /// <summary>The recommended squeeze configuration's ROC curves: clean test digits against each attack's successful examples.</summary>
    public const string SqueezeFile = "squeeze-roc.png";

    /// <summary>PRADA's W over queries for each extraction attacker and a few benign callers, with δ.</summary>
    public const string ExtractionFile = "extraction.png";

    /// <summary>
    /// The out-of-distribution signal over queries: the share of each caller's latest screened rows the OOD screen
    /// flagged, for each extraction attacker and a few benign callers, with the threshold.
    /// </summary>
    public const string ExtractionOodFile = "extraction-ood.png";

    /// <summary>Benign callers drawn in the extraction plots.</summary>
    public const int PlottedBenignCallers = 4;

    private const int Width = 800;
    private const int Height = 600;

    /// <summary>
    /// Writes <see cref="OodFile"/>, <see cref="SqueezeFile"/> and, when extraction was evaluated,
    /// <see cref="ExtractionFile"/> and <see cref="ExtractionOodFile"/> into <paramref name="directory"/>; returns their
    /// paths.
    /// </summary>
    public static IReadOnlyList<string> Write(DefenseEvaluationResult result, string directory)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        var report = result.Report;

        var ood = NewPlot(
            "Out-of-distribution screen (Mahalanobis)", "false-positive rate (held-out digits flagged)", "true-positive rate (foreign rows flagged)");
        Curve(ood, result.Curves.Ood, Invariant($"digits vs all foreign rows (AUC {report.Ood.Auc:F4})"));
        var chosen = report.Ood.Chosen;
        Point(ood, chosen.HeldOutFlagged.Value, chosen.ForeignFlagged.Value, Invariant($"threshold at percentile {chosen.Percentile}"));
        var oodPath = Path.Combine(directory, OodFile);
        ood.SavePng(oodPath, Width, Height);

        var recommended = report.Squeeze.RecommendedResult;
        var squeeze = NewPlot(
            $"Feature squeezing: {recommended.Configuration.Name}", "false-positive rate (clean test digits flagged)", "true-positive rate (successful adversarial examples flagged)");
        foreach (var (name, curve) in result.Curves.Squeeze)
        {
            Curve(squeeze, curve, Invariant($"{name} (AUC {curve.Auc:F3})"));
        }

        Point(squeeze, recommended.TestFalsePositives.Value, recommended.TestDetected.Value, Invariant($"threshold {recommended.Threshold}: all attacks pooled"));
        var squeezePath = Path.Combine(directory, SqueezeFile);
        squeeze.SavePng(squeezePath, Width, Height);
        if (report.Extraction is not { } extraction || result.Curves.Extraction.Count == 0)
        {
            return [oodPath, squeezePath];
        }

        var extractionPath = Path.Combine(directory, ExtractionFile);
        ExtractionPlot(extraction, result.Curves.Extraction).SavePng(extractionPath, Width, Height);
        var extractionOodPath = Path.Combine(directory, ExtractionOodFile);
        ExtractionOodPlot(extraction, result.Curves.Extraction).SavePng(extractionOodPath, Width, Height);
        return [oodPath, squeezePath, extractionPath, extractionOodPath];
    }

    private static Plot ExtractionOodPlot(ExtractionReport report, IReadOnlyList<CallerTrace> traces)
    {
        var setup = report.Setup;
        var plot = new Plot();
        plot.Title(Invariant($"OOD share on the digits model: flagged of the last {setup.OutOfDistributionWindow} screened rows"));
        plot.XLabel(Invariant($"query (one per simulated {setup.SecondsPerQuery} s)"));
        plot.YLabel("share the OOD screen flagged");
        var palette = new ScottPlot.Palettes.Category10();
        var benignLabelled = false;
        var attacker = 0;
        foreach (var trace in traces.Where(t => !t.Benign).Concat(traces.Where(t => t.Benign).Take(PlottedBenignCallers)))
        {
            var points = trace.OutOfDistributionShare.Select((share, i) => (Query: i + 1.0, Share: share)).Where(p => p.Share is not null).ToArray();
            if (points.Length == 0)
            {
                continue;
            }

            var line = plot.Add.ScatterLine(points.Select(p => p.Query).ToArray(), points.Select(p => p.Share!.Value).ToArray());
            StyleCaller(line, trace.Benign, trace.Name, traces.Count(t => t.Benign), palette, ref benignLabelled, ref attacker);
        }

        var threshold = plot.Add.HorizontalLine(setup.OutOfDistributionThreshold);
        threshold.LinePattern = LinePattern.Dashed;
        threshold.Color = Colors.Red;
        threshold.LegendText = Invariant($"threshold {setup.OutOfDistributionThreshold} (from {setup.OutOfDistributionMinRows} rows)");
        var target = plot.Add.VerticalLine(setup.TargetQueries);
        target.LinePattern = LinePattern.Dotted;
        target.Color = Colors.Gray;
        target.LegendText = Invariant($"target: {setup.TargetQueries} queries");
        plot.Axes.SetLimits(0, setup.QueriesPerCaller, -0.02, 1.02);

        // Lower right: the attackers' lines are above 0.6 there, the benign callers' near 0.
        plot.Legend.Alignment = Alignment.LowerRight;
        plot.ShowLegend();
        return plot;
    }

    private static Plot ExtractionPlot(ExtractionReport report, IReadOnlyList<CallerTrace> traces)
    {
        var plot = new Plot();
        plot.Title(Invariant($"PRADA on the digits model: W of the last {report.Setup.DistanceWindow} minimum distances"));
        plot.XLabel(Invariant($"query (one per simulated {report.Setup.SecondsPerQuery} s)"));
        plot.YLabel("Shapiro–Wilk W");
        var palette = new ScottPlot.Palettes.Category10();
        var lowest = 1.0;
        var benignLabelled = false;
        var attacker = 0;
        foreach (var trace in traces.Where(t => !t.Benign).Concat(traces.Where(t => t.Benign).Take(PlottedBenignCallers)))
        {
            var points = trace.W.Select((w, i) => (Query: i + 1.0, W: w)).Where(p => p.W is not null).ToArray();
            if (points.Length == 0)
            {
                continue;
            }

            lowest = Math.Min(lowest, points.Min(p => p.W!.Value));
            var line = plot.Add.ScatterLine(points.Select(p => p.Query).ToArray(), points.Select(p => p.W!.Value).ToArray());
            StyleCaller(line, trace.Benign, trace.Name, traces.Count(t => t.Benign), palette, ref benignLabelled, ref attacker);
        }

        foreach (var delta in report.Deltas.DistinctBy(d => d.Delta))
        {
            var line = plot.Add.HorizontalLine(delta.Delta);
            line.LinePattern = LinePattern.Dashed;
            line.Color = delta.Name == "default" ? Colors.Red : Colors.Black;
            line.LegendText = Invariant($"δ = {delta.Delta} ({delta.Name})");
        }

        var target = plot.Add.VerticalLine(report.Setup.TargetQueries);
        target.LinePattern = LinePattern.Dotted;
        target.Color = Colors.Gray;
        target.LegendText = Invariant($"target: {report.Setup.TargetQueries} queries");
        plot.Axes.SetLimits(0, report.Setup.QueriesPerCaller, Math.Max(0, lowest - 0.03), 1.005);
        plot.Legend.Alignment = Alignment.LowerRight;
        plot.ShowLegend();
        return plot;
    }

    private static Plot NewPlot(string title, string x, string y)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel(x);
        plot.YLabel(y);
        plot.Axes.SetLimits(-0.01, 1.01, -0.01, 1.01);
        var chance = plot.Add.Line(0, 0, 1, 1);
        chance.LinePattern = LinePattern.Dotted;
        chance.Color = Colors.Gray;
        plot.Legend.Alignment = Alignment.LowerRight;
        plot.ShowLegend();
        return plot;
    }

    private static void Curve(Plot plot, RocCurve curve, string label)
    {
        var line = plot.Add.ScatterLine(curve.FalsePositiveRates.ToArray(), curve.TruePositiveRates.ToArray());
        line.LegendText = label;
        line.LineWidth = 2;
    }

    private static void Point(Plot plot, double x, double y, string label)
    {
        var marker = plot.Add.Marker(x, y, MarkerShape.FilledCircle, 10, Colors.Black);
        marker.LegendText = label;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    // Benign callers thin and grey, labelled once for all; each attacker in its own colour with its name.
    private static void StyleCaller(ScottPlot.Plottables.Scatter line, bool benign, string name, int benignCount, ScottPlot.IPalette palette, ref bool benignLabelled, ref int attacker)
    {
        if (benign)
        {
            line.Color = Colors.Gray.WithAlpha(0.8);
            line.LineWidth = 1;
            if (!benignLabelled)
            {
                line.LegendText = Invariant($"benign callers ({PlottedBenignCallers} of {benignCount})");
                benignLabelled = true;
            }
        }
        else
        {
            line.Color = palette.GetColor(attacker++);
            line.LineWidth = 2;
            line.LegendText = name;
        }
    }
}
