using System.Globalization;
using ServerlessServe.Core.Defenses.Extraction;
using ServerlessServe.Eval.Defenses;
using Spectre.Console;

namespace ServerlessServe.Cli.Commands;

/// <summary>The tables of <c>ssctl eval defenses</c>.</summary>
internal static class DefenseTables
{
    public static void Print(DefenseReport report)
    {
        AnsiConsole.MarkupLine(Invariant(
            $"Model [blue]{report.Model}[/] sha256 {report.ModelSha256}: {report.TrainingRows} training rows (profiles and thresholds), {report.TestRows} held-out test rows (every rate below unless named training)."));
        PrintOod(report.Ood);
        PrintAttacks(report.Squeeze);
        PrintSqueeze(report.Squeeze);
        PrintLayered(report.Layered);
        PrintAccuracy(report.Accuracy);
        if (report.Cost is { } cost)
        {
            PrintCost(cost);
        }

        if (report.Extraction is { } extraction)
        {
            PrintExtraction(extraction);
        }

        if (report.Membership is { } membership)
        {
            PrintMembership(membership);
        }

        PrintRecommendation(report);
    }

    private static void PrintOod(OodReport ood)
    {
        var table = new Table().Title("Out-of-distribution screen (Mahalanobis distance over the training profile)")
            .AddColumn("percentile").AddColumn("threshold").AddColumn("training flagged").AddColumn("held-out digits flagged (FPR)");
        foreach (var set in ood.Percentiles[0].Foreign)
        {
            table.AddColumn(Invariant($"{set.Name} (n={set.Flagged.Total})"));
        }

        table.AddColumn(Invariant($"all foreign (n={ood.Percentiles[0].ForeignFlagged.Total})")).AddColumn("targets");
        foreach (var p in ood.Percentiles)
        {
            var cells = new List<string>
            {
                p.Percentile == ood.ChosenPercentile ? Invariant($"[bold]{p.Percentile}[/] (chosen)") : Invariant($"{p.Percentile}"),
                Invariant($"{p.Threshold:F3}"),
                Percent(p.TrainingFlagged),
                Percent(p.HeldOutFlagged),
            };
            cells.AddRange(p.Foreign.Select(f => Percent(f.Flagged)));
            cells.Add(Percent(p.ForeignFlagged));
            cells.Add(Met(p.MeetsTargets));
            table.AddRow(cells.ToArray());
        }

        table.Caption(Invariant(
            $"Targets: ≥ {ood.TargetForeignFlagged:P0} of foreign rows flagged at ≤ {ood.TargetHeldOutFlagged:P0} of held-out digits. ROC AUC (digits vs all foreign) {ood.Auc:F6}. Chosen: {Markup.Escape(ood.Choice)}."));
        AnsiConsole.Write(table);
    }

    private static void PrintAttacks(SqueezeReport squeeze)
    {
        var table = new Table().Title("White-box attacks judged by ONNX Runtime (successful: clean prediction right, adversarial wrong)")
            .AddColumn("attack").AddColumn("ε (×16 counts)").AddColumn("training: successful / correct").AddColumn("test: successful / correct");
        foreach (var test in squeeze.Attacks.Where(a => a.Split == "test"))
        {
            var train = squeeze.Attacks.Single(a => a.Split == "train" && a.Attack == test.Attack && a.Epsilon == test.Epsilon);
            table.AddRow(test.Attack, Invariant($"{test.Epsilon}"), Success(train), Success(test));
        }

        AnsiConsole.Write(table);
    }

    private static void PrintSqueeze(SqueezeReport squeeze)
    {
        var summary = new Table().Title(Invariant($"Feature squeezing: thresholds for ≤ {squeeze.TargetFalsePositiveRate:P0} false positives on clean training rows"))
            .AddColumn("squeezers").AddColumn("threshold").AddColumn("training FPR").AddColumn("test FPR")
            .AddColumn("detected, test (all attacks)").AddColumn("detected, training").AddColumn("ROC AUC, test").AddColumn("targets");
        foreach (var c in squeeze.Configurations)
        {
            var name = Markup.Escape(c.Configuration.Name);
            summary.AddRow(
                c.Configuration.Name == squeeze.Recommended ? $"[bold]{name}[/] (recommended)" : name,
                Invariant($"{c.Threshold}"),
                Percent(c.TrainingFalsePositives),
                Percent(c.TestFalsePositives),
                Percent(c.TestDetected),
                Percent(c.TrainingDetected),
                Invariant($"{c.TestAuc:F3}"),
                Met(c.MeetsTargets));
        }

        var paper = squeeze.Reference;
        summary.AddRow(
            Markup.Escape($"{paper.Source} ({paper.Setting})"), "", "", Invariant($"{paper.FalsePositiveRate:P2}"), Invariant($"{paper.Detection:P1}"), "", "", "");
        summary.Caption(Invariant($"Targets: ≥ {squeeze.TargetDetection:P0} of successful test examples detected at ≤ {squeeze.TargetFalsePositiveRate:P0} test false positives."));
        AnsiConsole.Write(summary);

        var first = squeeze.Configurations[0];
        var detections = new Table().Title("Feature squeezing: successful test examples detected, by attack").AddColumn("squeezers");
        foreach (var d in first.Detections)
        {
            detections.AddColumn(Invariant($"{d.Attack} ε={d.Epsilon} (n={d.Detected.Total})"));
        }

        foreach (var c in squeeze.Configurations)
        {
            detections.AddRow([Markup.Escape(c.Configuration.Name), .. c.Detections.Select(d => d.Detected.Total == 0 ? "–" : Invariant($"{d.Detected.Value:P1}"))]);
        }

        AnsiConsole.Write(detections);
    }

    private static void PrintLayered(IReadOnlyList<LayeredDetection> layered)
    {
        var table = new Table().Title("Successful adversarial examples (test) stopped by the served stack: OOD screen, squeezing, either")
            .AddColumn("attack").AddColumn("ε").AddColumn("examples").AddColumn("OOD screen").AddColumn("squeezing").AddColumn("either");
        foreach (var l in layered)
        {
            table.AddRow(l.Attack, Invariant($"{l.Epsilon}"), Invariant($"{l.Either.Total}"), Percent(l.Ood), Percent(l.Squeeze), Percent(l.Either));
        }

        AnsiConsole.Write(table);
    }

    private static void PrintAccuracy(IReadOnlyList<AccuracyResult> accuracy)
    {
        var table = new Table().Title("Clean test accuracy with defenses enforcing (a refused row counts as wrong)")
            .AddColumn("defenses enforcing").AddColumn("accuracy").AddColumn("false positives (refused clean rows)");
        foreach (var a in accuracy)
        {
            table.AddRow(Markup.Escape(a.Defenses), Percent(a.Accuracy), Percent(a.FalsePositives));
        }

        AnsiConsole.Write(table);
    }

    private static void PrintCost(CostReport cost)
    {
        var build = cost.Optimized ? "Release build" : "Debug build: several times slower than Release";
        var table = new Table().Title($"Cost on this machine ({build}; medians; measurements, not guarantees)").AddColumn("what").AddColumn("µs");
        table.AddRow(Invariant($"Mahalanobis screen, per row ({cost.MahalanobisPasses} passes over {cost.MahalanobisRows} rows)"), Invariant($"{cost.MahalanobisMicrosecondsPerRow:F2}"));
        table.AddRow(Invariant($"ONNX Runtime, one row ({cost.OnnxRuns} runs)"), Invariant($"{cost.OnnxRowMicroseconds:F1}"));
        table.AddRow(Markup.Escape(Invariant($"squeezed one-row request: batch + one run on the row and its copies + scores ({cost.Squeezers})")), Invariant($"{cost.OnnxSqueezedMicroseconds:F1}"));
        table.AddRow("extra for squeezing", Invariant($"{cost.SqueezeExtraMicroseconds:F1}"));
        AnsiConsole.Write(table);
    }

    private static void PrintExtraction(ExtractionReport extraction)
    {
        var setup = extraction.Setup;
        var table = new Table()
            .Title(Invariant(
                $"Model extraction detector, default options (δ = {setup.Delta}, volume {setup.VolumeLimit}/{setup.VolumeWindowSeconds / 60} min, coverage {setup.CoverageThreshold}, OOD share {setup.OutOfDistributionThreshold} of the last {setup.OutOfDistributionWindow} rows from {setup.OutOfDistributionMinRows}): {setup.QueriesPerCaller} queries per caller, one per {setup.SecondsPerQuery} simulated s"))
            .AddColumn("caller").AddColumn("first alarm (query)").AddColumn("first signal").AddColumn("PRADA W < δ").AddColumn("coverage").AddColumn("volume").AddColumn("OOD share")
            .AddColumn(Invariant($"lowest W, first {setup.TargetQueries}")).AddColumn("lowest W").AddColumn("highest coverage").AddColumn("highest OOD share").AddColumn("OOD screen would refuse");
        foreach (var c in extraction.Callers)
        {
            var name = Markup.Escape(c.Name);
            table.AddRow(
                c.Benign ? name : $"[bold]{name}[/]",
                Query(c.FirstAlarm),
                Signals(c.FirstSignals),
                Query(c.FirstDistanceDistribution),
                Query(c.FirstCoverage),
                Query(c.FirstVolume),
                Query(c.FirstOutOfDistribution),
                W(c.MinWWithinTarget),
                W(c.MinW),
                c.MaxCoverage is { } coverage ? Invariant($"{coverage:F3}") : "–",
                Share(c.MaxOutOfDistributionShare),
                Invariant($"{c.OodFlagged.Value:P1}") + (c.FirstOodFlagged is { } first ? Invariant($" (first: {first})") : ""));
        }

        table.Caption(Markup.Escape(string.Join(" ", extraction.Callers.Where(c => c.Name is "random" or "natural replay" || c.Name.EndsWith(" 1", StringComparison.Ordinal))
            .Select(c => $"{c.Name}: {c.Description}."))));
        AnsiConsole.Write(table);

        var calibration = extraction.Calibration;
        var deltas = new Table().Title("δ for the digits model: the evaluation's callers with each δ (W does not depend on δ)")
            .AddColumn("δ").AddColumn("benign false alarms");
        var attackers = extraction.Callers.Where(c => !c.Benign).Select(c => c.Name).ToArray();
        foreach (var name in attackers)
        {
            deltas.AddColumn(Markup.Escape(name));
        }

        deltas.AddColumn(Invariant($"synthetic attackers flagged ≤ {setup.TargetQueries}")).AddColumn("targets");
        foreach (var d in extraction.Deltas)
        {
            var cells = new List<string> { Invariant($"{d.Delta} ({d.Name})"), Invariant($"{d.FalseAlarms.Count}/{d.FalseAlarms.Total}") };
            cells.AddRange(attackers.Select(name => d.Outcomes.Single(o => o.Caller == name) is var o && o.FirstAlarm is { } q ? Invariant($"{q} ({Signals(o.FirstSignals)})") : "none"));
            cells.Add(Invariant($"{d.TargetAttackersCaught.Count}/{d.TargetAttackersCaught.Total}"));
            cells.Add(Met(d.TargetsMet));
            deltas.AddRow(cells.ToArray());
        }

        deltas.Caption(Markup.Escape(Invariant(
            $"Lowest W: {calibration.Callers} calibration callers ({calibration.Description}) {calibration.LowestW:F4} (median of their lowest {calibration.MedianLowestW:F4}); the {extraction.Callers.Count(c => c.Benign)} benign callers {calibration.BenignLowestW:F4}..{calibration.BenignHighestLowestW:F4}. Recommended δ {calibration.RecommendedDelta}: {calibration.Rule}. A δ separating every Jacobian attacker from every benign caller: {(calibration.Separable ? "exists" : "none")}. Highest OOD share: calibration callers {Share(calibration.HighestOutOfDistributionShare)}, benign callers {Share(extraction.Callers.Where(c => c.Benign).Max(c => c.MaxOutOfDistributionShare))} (threshold {setup.OutOfDistributionThreshold}).")));
        AnsiConsole.Write(deltas);
    }

    private static void PrintMembership(MembershipReport membership)
    {
        var table = new Table()
            .Title(Invariant($"Membership inference (Yeom et al. 2018): {membership.Members} training rows vs {membership.NonMembers} held-out rows, best threshold (advantage = TPR − FPR)"))
            .AddColumn("released form").AddColumn("true-label confidence: advantage").AddColumn("TPR / FPR").AddColumn("threshold")
            .AddColumn("top score (no label): advantage").AddColumn("TPR / FPR");
        foreach (var f in membership.Forms)
        {
            var form = Markup.Escape(f.Form);
            table.AddRow(
                f.Policy ? $"[bold]{form}[/]" : form,
                Invariant($"{f.TrueLabel.Advantage:F4}"),
                Invariant($"{f.TrueLabel.TruePositiveRate:P1} / {f.TrueLabel.FalsePositiveRate:P1}"),
                f.TrueLabel.Threshold is { } t ? Invariant($"{t:G6}") : "–",
                f.TopScore is { } top ? Invariant($"{top.Advantage:F4}") : "–",
                f.TopScore is { } s ? Invariant($"{s.TruePositiveRate:P1} / {s.FalsePositiveRate:P1}") : "–");
        }

        table.Caption(Markup.Escape(Invariant(
            $"Accuracy: members {Percent(membership.MemberAccuracy)}, non-members {Percent(membership.NonMemberAccuracy)}. Members: {membership.Selection}.")));
        AnsiConsole.Write(table);
    }

    private static string Query(int? query) => query is { } q ? Invariant($"{q}") : "–";

    private static string W(double? w) => w is { } value ? Invariant($"{value:F4}") : "–";

    private static string Share(double? share) => share is { } value ? Invariant($"{value:F3}") : "–";

    private static string Signals(ExtractionSignals signals)
    {
        if (signals == ExtractionSignals.None)
        {
            return "none";
        }

        var names = new List<string>();
        if (signals.HasFlag(ExtractionSignals.DistanceDistribution))
        {
            names.Add("PRADA");
        }

        if (signals.HasFlag(ExtractionSignals.Coverage))
        {
            names.Add("coverage");
        }

        if (signals.HasFlag(ExtractionSignals.Volume))
        {
            names.Add("volume");
        }

        if (signals.HasFlag(ExtractionSignals.OutOfDistribution))
        {
            names.Add("OOD share");
        }

        return string.Join(" + ", names);
    }

    private static void PrintRecommendation(DefenseReport report)
    {
        var squeeze = report.Squeeze.RecommendedResult;
        AnsiConsole.MarkupLine(Invariant(
            $"[bold]OOD screen[/]: percentile {report.Ood.ChosenPercentile}: {Percent(report.Ood.Chosen.ForeignFlagged)} of foreign rows flagged at {Percent(report.Ood.Chosen.HeldOutFlagged)} of held-out digits: targets {Met(report.Ood.TargetsMet)}."));
        AnsiConsole.MarkupLine(Invariant(
            $"[bold]Feature squeezing[/]: {Markup.Escape(squeeze.Configuration.Name)} at {squeeze.Threshold}: {Percent(squeeze.TestDetected)} of successful test examples detected at {Percent(squeeze.TestFalsePositives)} test false positives: targets {Met(squeeze.MeetsTargets)}."));
        if (report.Extraction is { } extraction)
        {
            foreach (var d in extraction.Deltas)
            {
                AnsiConsole.MarkupLine(Invariant(
                    $"[bold]Extraction detector[/], δ = {d.Delta} ({d.Name}): {d.FalseAlarms.Count}/{d.FalseAlarms.Total} benign callers alarmed; {d.TargetAttackersCaught.Count}/{d.TargetAttackersCaught.Total} synthetic-query attackers flagged within {extraction.Setup.TargetQueries} queries: targets {Met(d.TargetsMet)}."));
            }
        }

        if (report.Membership?.Forms.FirstOrDefault(f => f.Policy) is { } released)
        {
            AnsiConsole.MarkupLine(Invariant(
                $"[bold]Membership inference[/] on what the policy releases ({Markup.Escape(released.Form)}): advantage {released.TrueLabel.Advantage:F4} (full precision {report.Membership.Forms[0].TrueLabel.Advantage:F4})."));
        }

        AnsiConsole.MarkupLine("Recommended [blue]defenses[/] for samples/digits/policy.json:");
        Console.Out.WriteLine(Invariant($"\"ood\": {{ \"mode\": \"enforce\", \"input\": \"{squeeze.Configuration.ToPolicy(0).Input}\", \"percentile\": {report.Ood.ChosenPercentile} }},"));
        Console.Out.WriteLine("\"squeeze\": " + report.Squeeze.PolicyJson());
    }

    private static string Percent(Rate rate) => Invariant($"{rate.Value:P2} ({rate.Count}/{rate.Total})");

    private static string Success(AttackSummary attack) => Invariant($"{attack.Successful}/{attack.CleanCorrect} ({attack.SuccessRate:P1})");

    private static string Met(bool met) => met ? "[green]met[/]" : "[red]not met[/]";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
