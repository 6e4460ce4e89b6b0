using System.CommandLine;
using System.Globalization;
using ServerlessServe.Local;
using ServerlessServe.Local.Fuzz;

namespace ServerlessServe.Cli.Commands;

/// <summary>
/// <c>ssctl fuzz edge</c>: sends generated mutations of valid V2 requests (<see cref="EdgeFuzzer"/>) to a gateway — by
/// default the one <c>ssctl up</c> runs — and reports answers by status, every 5xx, every request not answered in time
/// and every refusal without the V2 error body (up to 20 of each listed). One case in <c>--jobs-every</c> submits a job,
/// and each accepted job is followed to its end, which must be <c>completed</c> with one well-formed result per item. Case <c>i</c> of a seed is always the same
/// request, so a finding is replayed by its seed and number. <c>--functions-host</c> counts the Functions host's own
/// documented answer apart (<see cref="EdgeFuzzer.UnderFunctionsHost"/>). Exit 0 when nothing was found, 3 when
/// something was, 1 on usage errors, 2 when no token could be had.
/// </summary>
internal static class FuzzCommand
{
    // Below this many cases a run may be answered 401 and 404 only by chance (mutated tokens and routes).
    private const int MinCasesForReach = 20;

    public static Command Build()
    {
        var cases = new Option<int>("--cases") { Description = "Cases to send (1..10000000).", DefaultValueFactory = _ => 100_000 };
        var seed = new Option<int>("--seed") { Description = "Seed of the run; the same seed sends the same cases.", DefaultValueFactory = _ => 1 };
        var parallel = new Option<int>("--parallel") { Description = "Requests in flight (1..64).", DefaultValueFactory = _ => 16 };
        var duration = new Option<int>("--max-seconds") { Description = "Stop after this many seconds even if cases remain (the run's time bound).", DefaultValueFactory = _ => 3600 };
        var timeout = new Option<int>("--request-timeout") { Description = "Seconds a request may take before it counts as a hang.", DefaultValueFactory = _ => 30 };
        var jobsEvery = new Option<int>("--jobs-every") { Description = "One case in this many submits a job and follows it to its end (0: infer requests only).", DefaultValueFactory = _ => 8 };
        var functionsHost = new Option<bool>("--functions-host")
        {
            Description = "The gateway runs under the Functions host (ssctl up --host functions): the host's own empty 404 to a method no function lists is counted apart, not as a finding.",
        };
        var otherToken = new Option<string?>("--other-token")
        {
            Description = "A second caller's bearer token (another subject than --token's), for the probes that ask for a job's routes as someone who did not submit it. Default: $SERVERLESSSERVE_OTHER_TOKEN (keeps it out of the process list), else for a gateway on loopback one minted from the local issuer in --state for 'fuzz-other-caller'; for any other gateway those probes are skipped without it.",
        };
        var url = CommonOptions.GatewayUrl();
        var token = CommonOptions.Token();
        var state = CommonOptions.State();
        var edge = new Command("edge", "Fuzz the V2 endpoints of a gateway: zero 5xx and zero hangs expected.") { cases, seed, parallel, duration, timeout, jobsEvery, functionsHost, url, token, otherToken, state };
        edge.SetAction(async (parse, cancellationToken) =>
        {
            var count = parse.GetValue(cases);
            var inFlight = parse.GetValue(parallel);
            if (count is < 1 or > 10_000_000 || inFlight is < 1 or > 64 || parse.GetValue(duration) < 1 || parse.GetValue(timeout) < 1 || parse.GetValue(jobsEvery) < 0)
            {
                await Console.Error.WriteLineAsync("ssctl: --cases 1..10000000, --parallel 1..64, --max-seconds and --request-timeout at least 1, --jobs-every at least 0").ConfigureAwait(false);
                return 1;
            }

            var gateway = parse.GetValue(url)!;
            string bearer;
            try
            {
                bearer = CommonOptions.ResolveToken(parse.GetValue(token), gateway, parse.GetValue(state));
            }
            catch (Jobs.JobInputException ex)
            {
                await Console.Error.WriteLineAsync("ssctl: " + ex.Message).ConfigureAwait(false);
                return 2;
            }

            using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = inFlight, AllowAutoRedirect = false })
            {
                BaseAddress = gateway.AbsoluteUri.EndsWith('/') ? gateway : new Uri(gateway.AbsoluteUri + "/"),
                Timeout = Timeout.InfiniteTimeSpan,
            };
            // The route probes' other caller: the one given, else minted like the default token, for a subject that sends no case.
            var local = CommonOptions.ResolveState(parse.GetValue(state));
            var otherCaller = (parse.GetValue(otherToken) ?? Environment.GetEnvironmentVariable("SERVERLESSSERVE_OTHER_TOKEN")) is { Length: > 0 } given
                ? given.Trim()
                : gateway.IsLoopback && File.Exists(local.IssuerKey)
                    ? LocalIssuer.Mint(local, "fuzz-other-caller", [], TimeSpan.FromHours(1))
                    : null;
            if (otherCaller == bearer)
            {
                await Console.Error.WriteLineAsync("ssctl: --other-token must be another caller's token than --token's").ConfigureAwait(false);
                return 1;
            }

            if (otherCaller is null && parse.GetValue(jobsEvery) > 0)
            {
                await Console.Error.WriteLineAsync("ssctl: no second caller (--other-token): a job's routes are not probed as another caller").ConfigureAwait(false);
            }

            var fuzzer = new EdgeFuzzer(parse.GetValue(seed))
            {
                UnderFunctionsHost = parse.GetValue(functionsHost),
                JobsEvery = parse.GetValue(jobsEvery),
                OtherCallerToken = otherCaller,
            };
            var progress = new Progress<int>(sent => Console.Error.WriteLine($"ssctl: {sent} cases sent"));
            var report = await fuzzer.RunAsync(
                client,
                [bearer],
                count,
                inFlight,
                TimeSpan.FromSeconds(parse.GetValue(duration)),
                TimeSpan.FromSeconds(parse.GetValue(timeout)),
                progress,
                cancellationToken).ConfigureAwait(false);

            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"seed {fuzzer.Seed}: {report.Cases} cases in {report.Elapsed.TotalSeconds:F1} s ({report.Cases / Math.Max(0.001, report.Elapsed.TotalSeconds):F0}/s){(report.StoppedAtDeadline ? ", stopped at --max-seconds" : "")}"));
            Console.Out.WriteLine("statuses: " + string.Join(", ", report.Statuses.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key}×{p.Value}"))));
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"5xx: {report.ServerErrors.Count}  hangs: {report.Hangs.Count}  refusals without the V2 error body: {report.MalformedErrorBodies.Count}  jobs followed: {report.JobsFollowed}, ended wrong: {report.JobFindings.Count}"));
            if (report.JobsFollowed > 0)
            {
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"jobs ended: {report.EndedJobs.Count(j => !j.Cancelled)} completed, {report.EndedJobs.Count(j => j.Cancelled)} cancelled (one in six was cancelled as soon as it was accepted)"));
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"jobs whose routes were probed: {report.JobsProbed}, answered wrong: {report.RouteFindings.Count}"));
            }

            if (fuzzer.UnderFunctionsHost)
            {
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"the Functions host's own empty 404 to a method no function lists (expected, not a finding): {report.HostAnswers}"));
            }

            foreach (var (index, mutation, status, _) in report.ServerErrors.Take(20))
            {
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  5xx   case {index} ({mutation}): {status}"));
            }

            foreach (var (index, mutation) in report.Hangs.Take(20))
            {
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  hang  case {index} ({mutation})"));
            }

            foreach (var (index, mutation, status) in report.MalformedErrorBodies.Take(20))
            {
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  body  case {index} ({mutation}): {status} without the V2 error body"));
            }

            foreach (var (index, mutation, problem) in report.JobFindings.Take(20))
            {
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  job   case {index} ({mutation}): {problem}"));
            }

            foreach (var (index, mutation, problem) in report.RouteFindings.Take(20))
            {
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  route case {index} ({mutation}): {problem}"));
            }

            var findings = report.ServerErrors.Count + report.Hangs.Count + report.MalformedErrorBodies.Count + report.JobFindings.Count + report.RouteFindings.Count;
            if (findings == 0 && report.Cases >= MinCasesForReach && report.Statuses.Count > 0 && report.Statuses.Keys.All(s => s is 401 or 404))
            {
                // A stale token or a URL without its route prefix: every case stopped at authentication or routing, so
                // nothing was fuzzed, and "5xx: 0" would read as a clean run.
                await Console.Error.WriteLineAsync("ssctl: fuzz edge: every case was answered 401 or 404: nothing got past authentication or routing, so nothing was tested (check --token, and that --url ends in the route prefix, e.g. http://127.0.0.1:7071/api/)").ConfigureAwait(false);
                return 2;
            }

            return findings == 0 ? 0 : 3;
        });
        return new Command("fuzz", "Fuzz a running gateway.") { edge };
    }
}
