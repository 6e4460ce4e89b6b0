using System.CommandLine;
using ServerlessServe.Cli.Jobs;
using Spectre.Console;

namespace ServerlessServe.Cli.Commands;

/// <summary>
/// <c>ssctl job submit|status|result|cancel</c>: durable jobs through the gateway's jobs API (docs/protocol.md,
/// "Jobs"), as the caller whose token is given. Exit codes in <see cref="JobExitCodes"/>.
/// </summary>
internal static class JobCommand
{
    public static Command Build()
    {
        var job = new Command("job", "Submit durable inference jobs to the gateway and follow them: status, results, cancel.");
        job.Subcommands.Add(Submit());
        job.Subcommands.Add(Status());
        job.Subcommands.Add(Result());
        job.Subcommands.Add(Cancel());
        return job;
    }

    private static Command Submit()
    {
        var model = new Argument<string>("MODEL") { Description = "Model name." };
        var version = new Option<string?>("--version") { Description = "Model version. Default: the latest that verifies, pinned for the whole job." };
        var file = new Option<string?>("--file") { Description = "File with one V2 inference request, or {\"items\":[request, ...]} (- for standard input).", HelpName = "FILE" };
        var data = new Option<string?>("--data") { Description = "The same, inline.", HelpName = "JSON" };
        var jsonl = new Option<string?>("--jsonl") { Description = "JSON-lines file: one V2 inference request per line, sent as one job (- for standard input).", HelpName = "FILE" };
        var wait = Wait("Wait until the job has finished, then print its result as `ssctl job result` does.");
        var (timeout, output) = (Timeout(), Output());
        var gateway = new GatewayOptions();
        var command = new Command(
            "submit",
            "Submit a job: a V2 request, a batch {\"items\":[...]}, or JSON lines; standard input when no --file, --data or --jsonl. " +
            "Prints the job id on standard output (its status URL on standard error), or with --wait the result. " + JobExitCodes.Help)
        {
            model, version, file, data, jsonl, wait, timeout, output,
        };
        gateway.AddTo(command);
        command.Validators.Add(result =>
        {
            if (new JobInput(result.GetValue(file), result.GetValue(data), result.GetValue(jsonl)).IsAmbiguous)
            {
                result.AddError("give at most one of --file, --data and --jsonl");
            }

            if (!result.GetValue(wait) && (result.GetValue(timeout) is not null || result.GetValue(output) is not null))
            {
                result.AddError("--timeout and --out apply with --wait");
            }
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            var input = new JobInput(parse.GetValue(file), parse.GetValue(data), parse.GetValue(jsonl));
            var body = await input.ReadAsync(Console.OpenStandardInput(), Console.IsInputRedirected, cancellationToken).ConfigureAwait(false);
            using var api = gateway.Open(parse);
            var json = parse.GetValue(gateway.Json);
            var submitted = await api.SubmitAsync(parse.GetValue(model)!, parse.GetValue(version), body.Utf8Json, cancellationToken).ConfigureAwait(false);
            if (!parse.GetValue(wait))
            {
                if (json)
                {
                    Console.Out.WriteLine(submitted.Json);
                }
                else
                {
                    // The id comes from the gateway: never a control sequence to the terminal.
                    var id = TerminalText.Clean(submitted.Id);
                    Console.Out.WriteLine(id);
                    Console.Error.WriteLine($"{Items(body.Items)} submitted; status {TerminalText.Clean(submitted.StatusUrl ?? "")}. Follow it with `ssctl job status {id}` or `ssctl job result {id} --wait`.");
                }

                return JobExitCodes.Ok;
            }

            var display = JobWaitDisplay.For(json, TimeProvider.System);
            display.Note($"job {submitted.Id} submitted ({Items(body.Items)})");
            return await WaitAndPrintAsync(api, submitted.Id, "job submit", parse.GetValue(timeout), parse.GetValue(output), json, display, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static Command Status()
    {
        var id = JobId();
        var gateway = new GatewayOptions();
        var command = new Command("status", "Print a job's status and how many of its items are done. Exit 0 when the gateway answered, whatever the status; 2 when not (as for every job command).") { id };
        gateway.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var api = gateway.Open(parse);
            var (job, _) = await api.GetAsync(parse.GetValue(id)!, "job status", cancellationToken).ConfigureAwait(false);
            Console.Out.WriteLine(parse.GetValue(gateway.Json) ? job.Json : JobPrinter.StatusLine(job));
            return JobExitCodes.Ok;
        });
        return command;
    }

    private static Command Result()
    {
        var id = JobId();
        var wait = Wait("Wait until the job has finished (a progress bar on a terminal, plain lines when standard error is redirected).");
        var (timeout, output) = (Timeout(), Output());
        var gateway = new GatewayOptions();
        var command = new Command(
            "result",
            "Print a completed job's items (or a cancelled one's, those it audited): for each, released with the outputs, or the refusal; with --json the gateway's whole answer. " + JobExitCodes.Help)
        {
            id, wait, timeout, output,
        };
        gateway.AddTo(command);
        command.Validators.Add(result =>
        {
            if (!result.GetValue(wait) && result.GetValue(timeout) is not null)
            {
                result.AddError("--timeout applies with --wait");
            }
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var api = gateway.Open(parse);
            var json = parse.GetValue(gateway.Json);
            var jobId = parse.GetValue(id)!;
            if (parse.GetValue(wait))
            {
                return await WaitAndPrintAsync(api, jobId, "job result", parse.GetValue(timeout), parse.GetValue(output), json, JobWaitDisplay.For(json, TimeProvider.System), cancellationToken).ConfigureAwait(false);
            }

            var (job, _) = await api.GetAsync(jobId, "job result", cancellationToken).ConfigureAwait(false);
            return await PrintResultAsync(job, parse.GetValue(output), json, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static Command Cancel()
    {
        var id = JobId();
        var gateway = new GatewayOptions();
        var command = new Command(
            "cancel",
            "Stop a job that is still pending or running (no new item starts; items in flight are finished and audited, and `job result` shows how each ended). Exit 0 when the job " +
            "is now cancelled or cancelling, or had already finished (the output says how); 5 when the gateway answered but the job goes on; 2 when the gateway refused.")
        {
            id,
        };
        gateway.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var api = gateway.Open(parse);
            var jobId = parse.GetValue(id)!;
            var (status, answer) = await api.CancelAsync(jobId, cancellationToken).ConfigureAwait(false);
            var job = TerminalText.Clean(jobId, 80);
            var stopped = JobStatusNames.IsFinal(status) || status == JobStatusNames.Cancelling;
            if (parse.GetValue(gateway.Json))
            {
                Console.Out.WriteLine(answer);
            }
            else if (stopped)
            {
                Console.Out.WriteLine(status switch
                {
                    JobStatusNames.Cancelled => $"job {job}: cancelled",
                    JobStatusNames.Cancelling => $"job {job}: cancelling (no more items start; those in flight are finished and audited, and `ssctl job result` shows how each ended)",
                    _ => $"job {job}: already {TerminalText.Clean(status, 20)}; nothing to cancel",
                });
            }
            else
            {
                Console.Error.WriteLine($"job {job}: still {TerminalText.Clean(status, 20)}; the gateway did not cancel it. Try again once it runs (`ssctl job status {job}`).");
            }

            return stopped ? JobExitCodes.Ok : JobExitCodes.NotFinished;
        });
        return command;
    }

    private static async Task<int> WaitAndPrintAsync(JobApi api, string id, string operation, TimeSpan? timeout, FileInfo? output, bool json, JobWaitDisplay display, CancellationToken cancellationToken)
    {
        JobDocument job;
        try
        {
            var waiter = new JobWaiter(api, TimeProvider.System);
            job = await display.RunAsync(id, observer => waiter.WaitAsync(id, operation, timeout, observer, cancellationToken)).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Console.Error.WriteLine($"Stopped waiting; job {TerminalText.Clean(id, 80)} goes on: `ssctl job status {id}`, `ssctl job result {id} --wait`, `ssctl job cancel {id}`.");
            return JobExitCodes.Interrupted;
        }

        return await PrintResultAsync(job, output, json, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<int> PrintResultAsync(JobDocument job, FileInfo? output, bool json, CancellationToken cancellationToken)
    {
        if (json)
        {
            Console.Out.WriteLine(job.Json);
        }

        // A cancelled job still has the results of the items it audited (released before the cancel was seen, or
        // refused): they are printed and saved as a completed job's are, and the exit code says it was cancelled.
        var partial = job.Status == JobStatusNames.Cancelled && job.Results is { Count: > 0 };
        if (job.Status != JobStatusNames.Completed)
        {
            if (!json)
            {
                Console.Error.WriteLine(JobPrinter.StatusLine(job) + (job.IsFinal ? "" : $"; wait for it with `ssctl job result {job.Id} --wait`"));
            }

            if (!partial)
            {
                return JobExitCodes.ForFinished(job.Status);
            }
        }

        if (output is not null)
        {
            await File.WriteAllBytesAsync(output.FullName, JobPrinter.Indented(job.Json), cancellationToken).ConfigureAwait(false);
        }

        if (!json)
        {
            JobPrinter.Results(job, AnsiConsole.Console, Console.Out);
            if (output is not null)
            {
                Console.Error.WriteLine($"The gateway's answer is in {output.FullName}.");
            }
        }

        return partial ? JobExitCodes.Cancelled : JobExitCodes.Ok;
    }

    private static Argument<string> JobId() => new("ID") { Description = "The job id that `ssctl job submit` printed." };

    private static Option<bool> Wait(string description) => new("--wait") { Description = description };

    private static Option<TimeSpan?> Timeout() => new("--timeout")
    {
        Description = "With --wait: stop waiting after this long, e.g. 00:05:00 (exit 5 if the job has not finished). Default: no limit.",
    };

    private static Option<FileInfo?> Output() => new("--out")
    {
        Description = "Also write the completed job (the gateway's answer, indented JSON) to this file.",
        HelpName = "FILE",
    };

    private static string Items(int count) => count == 1 ? "1 item" : $"{count} items";

    /// <summary>The options every job command takes to reach the gateway as a caller.</summary>
    private sealed class GatewayOptions
    {
        public Option<Uri> Url { get; } = CommonOptions.GatewayUrl();

        public Option<string?> Token { get; } = CommonOptions.Token();

        public Option<DirectoryInfo?> State { get; } = CommonOptions.State();

        public Option<bool> Json { get; } = CommonOptions.Json();

        public void AddTo(Command command)
        {
            command.Options.Add(Url);
            command.Options.Add(Token);
            command.Options.Add(State);
            command.Options.Add(Json);
        }

        public JobApi Open(ParseResult parse)
        {
            var url = parse.GetValue(Url)!;
            return new JobApi(url, CommonOptions.ResolveToken(parse.GetValue(Token), url, parse.GetValue(State)), TimeProvider.System);
        }
    }
}
