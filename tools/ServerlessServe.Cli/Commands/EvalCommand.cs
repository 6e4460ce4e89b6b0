using System.CommandLine;
using ServerlessServe.Eval.Defenses;
using Spectre.Console;

namespace ServerlessServe.Cli.Commands;

/// <summary><c>ssctl eval defenses</c>: the offline evaluation of the digits model's defenses.</summary>
internal static class EvalCommand
{
    /// <summary>The report's file name in <c>--out</c>.</summary>
    public const string ReportFile = "defenses.json";

    public static Command Build()
    {
        var eval = new Command("eval", "Evaluate the sample models offline.");
        eval.Subcommands.Add(Defenses());
        return eval;
    }

    private static Command Defenses()
    {
        var output = new Option<DirectoryInfo?>("--out") { Description = $"Folder to write {ReportFile}, the ROC curves ({DefensePlots.OodFile}, {DefensePlots.SqueezeFile}), PRADA's W over queries ({DefensePlots.ExtractionFile}) and the share of queries the OOD screen flags ({DefensePlots.ExtractionOodFile}) into." };
        var command = new Command(
            "defenses",
            "Evaluate the defenses of the digits model in ONNX Runtime: the out-of-distribution screen and feature squeezing (false positives on held-out digits, foreign inputs flagged, successful FGSM/BIM examples detected, accuracy, cost), the model-extraction detector (queries to the first alarm per attacker and signal, false alarms, δ calibrated) and membership inference per released form; prints the recommended policy blocks.")
        {
            output,
        };
        var jitter = new Option<double?>("--extraction-jitter")
        {
            Description = "σ of the Gaussian jitter on the digits that the natural, benign and calibration extraction callers replay, in pixel counts (default 0.5). 0 replays them exactly, as a caller that sends the same inputs again.",
        };
        command.Options.Add(jitter);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = parse.GetValue(jitter) is { } sigma ? new DefenseEvaluationOptions { ExtractionJitter = sigma } : new DefenseEvaluationOptions();
            if (!(options.ExtractionJitter >= 0.0 && double.IsFinite(options.ExtractionJitter)))
            {
                AnsiConsole.MarkupLine("[red]--extraction-jitter must be a finite number, 0 or more.[/]");
                return 2;
            }

            if (Console.IsOutputRedirected)
            {
                // Written to a file or a pipe: wide enough that the tables keep one line per row.
                AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 180);
            }

            AnsiConsole.MarkupLine("Evaluating the digits model's defenses (ONNX Runtime, CPU) …");
            var result = await Task.Run(() => DefenseEvaluation.Run(options), cancellationToken).ConfigureAwait(false);
            DefenseTables.Print(result.Report);
            if (parse.GetValue(output) is { } folder)
            {
                Directory.CreateDirectory(folder.FullName);
                var json = Path.Combine(folder.FullName, ReportFile);
                await File.WriteAllTextAsync(json, result.Report.ToJson() + "\n", cancellationToken).ConfigureAwait(false);
                AnsiConsole.MarkupLine($"Wrote {Markup.Escape(json)}");
                try
                {
                    foreach (var plot in DefensePlots.Write(result, folder.FullName))
                    {
                        AnsiConsole.MarkupLine($"Wrote {Markup.Escape(plot)}");
                    }
                }
                catch (Exception ex) when (ex is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException)
                {
                    AnsiConsole.MarkupLine($"[yellow]Plots left out:[/] the plotting library's native renderer could not load ({Markup.Escape(ex.GetType().Name)}).");
                }
            }

            return 0;
        });
        return command;
    }
}
