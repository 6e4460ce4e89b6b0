using System.Globalization;
using ScottPlot;

namespace ServerlessServe.Eval.Defenses;

/// <summary>ROC curves of the defenses as PNG files (ScottPlot 5, rendered by SkiaSharp).</summary>
public static class DefensePlots
{
    /// <summary>The OOD screen's ROC curve: held-out digits against all foreign rows.</summary>
    public const string OodFile = "ood-roc.png";

    /// <summary>The recommended squeeze configuration's ROC curves: clean test digits against each attack's successful examples.</summary>
    public const string SqueezeFile = "squeeze-roc.png";

    private const int Width = 800;
    private const int Height = 600;

    /// <summary>Writes <see cref="OodFile"/> and <see cref="SqueezeFile"/> into <paramref name="directory"/>; returns their paths.</summary>
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
        return [oodPath, squeezePath];
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
}
