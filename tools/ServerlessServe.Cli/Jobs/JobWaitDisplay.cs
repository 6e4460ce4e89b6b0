using Spectre.Console;

namespace ServerlessServe.Cli.Jobs;

/// <summary>
/// How a wait shows itself on standard error: a progress bar on a terminal, plain lines when standard error is
/// redirected (logs, CI), nothing with <c>--json</c>. Standard output carries only the result.
/// </summary>
internal abstract class JobWaitDisplay
{
    public static JobWaitDisplay For(bool json, TimeProvider time) =>
        json ? new Silent()
        : Console.IsErrorRedirected ? new PlainLines(Console.Error, time)
        : new ProgressBar();

    /// <summary>Runs <paramref name="wait"/> while showing what its observer reports.</summary>
    public abstract Task<T> RunAsync<T>(string id, Func<IJobWaitObserver, Task<T>> wait);

    /// <summary>A one-line note beside the wait (submitted, stopped waiting…), unless silent.</summary>
    public abstract void Note(string line);

    private sealed class Silent : JobWaitDisplay, IJobWaitObserver
    {
        public override Task<T> RunAsync<T>(string id, Func<IJobWaitObserver, Task<T>> wait) => wait(this);

        public override void Note(string line)
        {
        }

        public void Seen(JobDocument job)
        {
        }

        public void Retrying(JobApiException failure, TimeSpan delay)
        {
        }
    }

    /// <summary>A line when the status or the count of done items changes (at most one a second), and one every 15 s regardless.</summary>
    private sealed class PlainLines(TextWriter writer, TimeProvider time) : JobWaitDisplay
    {
        private static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(1);
        private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(15);

        public override Task<T> RunAsync<T>(string id, Func<IJobWaitObserver, Task<T>> wait) => wait(new Observer(writer, time));

        public override void Note(string line) => writer.WriteLine(line);

        private sealed class Observer(TextWriter writer, TimeProvider time) : IJobWaitObserver
        {
            private string? _last;
            private long? _lastAt;

            public void Seen(JobDocument job)
            {
                var line = $"job {job.Id}: {job.Status}, {job.Done}/{job.Items} items done";
                if (job.IsFinal || ShouldWrite(line))
                {
                    Write(line);
                }
            }

            public void Retrying(JobApiException failure, TimeSpan delay)
            {
                var line = $"{failure.Message}; retrying";
                if (ShouldWrite(line))
                {
                    Write(line);
                }
            }

            private bool ShouldWrite(string line) =>
                _lastAt is not { } at
                || (line != _last && time.GetElapsedTime(at) >= MinInterval)
                || time.GetElapsedTime(at) >= Heartbeat;

            private void Write(string line)
            {
                writer.WriteLine(line);
                _last = line;
                _lastAt = time.GetTimestamp();
            }
        }
    }

    /// <summary>A Spectre.Console progress bar on standard error: items done of items, the status, elapsed time.</summary>
    private sealed class ProgressBar : JobWaitDisplay
    {
        private readonly IAnsiConsole _console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });

        public override Task<T> RunAsync<T>(string id, Func<IJobWaitObserver, Task<T>> wait) =>
            _console.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(context => wait(new Observer(context.AddTask(Describe(id, JobStatusNames.Pending, 0, 0), maxValue: 1))));

        public override void Note(string line) => _console.WriteLine(line);

        private static string Describe(string id, string status, int done, int items) =>
            Markup.Escape($"job {id[..Math.Min(8, id.Length)]} {status} {done}/{items}");

        private sealed class Observer(ProgressTask task) : IJobWaitObserver
        {
            public void Seen(JobDocument job)
            {
                task.MaxValue = Math.Max(1, job.Items);
                task.Value = job.IsFinal && job.Status == JobStatusNames.Completed ? task.MaxValue : job.Done;
                task.Description = Describe(job.Id, job.Status, job.Done, job.Items);
                if (job.IsFinal)
                {
                    task.StopTask();
                }
            }

            public void Retrying(JobApiException failure, TimeSpan delay) =>
                task.Description = Markup.Escape($"gateway unavailable ({failure.Status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no answer"}); retrying");
        }
    }
}
