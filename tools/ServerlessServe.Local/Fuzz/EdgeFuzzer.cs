using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ServerlessServe.Local.Fuzz;

/// <summary>
/// A fuzzer of the gateway's V2 edge: each case is a valid request to a sample model (credit-risk FP32, customer-notes
/// INT64, the binary tensor extension, sometimes with 64–320 KiB of tensor) with one or more generated mutations — byte flips, truncation, insertions, JSON
/// type swaps, huge and special numbers, deep nesting, duplicate keys, wrong shapes and datatypes, bad binary-extension
/// lengths, odd headers, methods and paths, escapes of half a surrogate pair. Case <c>i</c> of seed <c>s</c> is always the same request, so any finding
/// is replayed by its numbers. Every answer must be below 500, come within the per-request timeout, and carry the V2
/// error body when it is a refusal. One case in <see cref="JobsEvery"/> is a job submission instead (one request or
/// <c>{"items":[...]}</c>, mutated the same ways); a job the gateway accepts is followed to its end, which must be
/// <c>completed</c> with one well-formed result per item (<see cref="EdgeFuzzReport.JobFindings"/>).
/// </summary>
public sealed class EdgeFuzzer(int seed)
{
    private static readonly string[] DataTypes = ["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES", "BF16", "fp32", "", "FP", "STRING", "INT128"];

    private static readonly string[] Numbers =
    [
        "1e309", "-1e309", "1e-400", "123456789012345678901234567890", "-0", "0.0000000000000000000000000000001", "1.7976931348623157e308",
        "18446744073709551616", "-9223372036854775809", "9223372036854775807", "4294967296", "65536", "256", "-1", "1.5", "3.4028235e38", "3.5e38",
        "0e0", "1E+2", "0x10", "NaN", "Infinity", "01", "+1", ".5", "1.", "--1",
    ];

    private static readonly string[] ContentTypes =
    [
        "application/json", "application/json; charset=utf-8", "application/json; charset=latin1", "application/octet-stream", "text/plain",
        "application/json; boundary=x", "multipart/form-data; boundary=x", "application/octet-stream; x=y", "*/*", "application/json;;", ";",
    ];

    private static readonly string[] Models = ["credit-risk", "customer-notes"];

    /// <summary>The methods each app's catch-all function lists (<c>FallbackFunctions</c>): any other reaches no function.</summary>
    private static readonly HashSet<string> FunctionMethods = new(["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"], StringComparer.OrdinalIgnoreCase);

    /// <summary>The seed of this run.</summary>
    public int Seed { get; } = seed;

    /// <summary>
    /// The gateway runs under the Functions host. The host answers a method that no function lists itself, before any
    /// function runs, with an empty 404 (docs/protocol.md, "Refusals the framework makes"). Such answers are counted in
    /// <see cref="EdgeFuzzReport.HostAnswers"/> instead of being findings. Every other answer is judged as standalone.
    /// </summary>
    public bool UnderFunctionsHost { get; init; }

    /// <summary>
    /// One case in this many is a job submission (<c>POST …/jobs</c>); 0 sends infer requests only. Which cases are jobs
    /// is drawn apart from the rest, so an infer case is the same request whatever this is.
    /// </summary>
    public int JobsEvery { get; init; } = 8;

    /// <summary>
    /// A token of a caller that sends no case, for the route probes' other caller (<see cref="ProbesJobRoutes"/>); when
    /// null, the token of the next case is used if it is another one. With neither, jobs are probed by their own caller only.
    /// </summary>
    public string? OtherCallerToken { get; init; }

    /// <summary>Whether case <paramref name="index"/> submits a job (drawn apart from everything else about the case).</summary>
    public bool IsJob(int index) => JobsEvery > 0 && new Random(unchecked((Seed * 7_919) + (index * 31) + 1)).Next(JobsEvery) == 0;

    /// <summary>
    /// Whether an accepted job of case <paramref name="index"/> is cancelled (<c>DELETE jobs/{id}</c>) as soon as it is
    /// accepted: one in six, drawn apart from everything else. It must then end <c>cancelled</c>, or <c>completed</c> as
    /// any job if it finished first.
    /// </summary>
    public bool CancelsJob(int index) => Draw(index, 0) % 6 == 0;

    /// <summary>
    /// Whether an accepted job of case <paramref name="index"/> has its routes probed (<see cref="JobRouteProbes"/>):
    /// one in three, drawn apart from everything else. Another caller (<see cref="OtherCallerToken"/>, else the next case's
    /// token if it differs) names it as soon as it is accepted; once it has ended well, its own caller sends odd and
    /// mutated requests to its routes.
    /// </summary>
    public bool ProbesJobRoutes(int index) => Draw(index, 0x5851F42D4C957F2DUL) % 3 == 0;

    // A mix of the seed, the index and a salt (SplitMix64's finaliser), not Random seeded next to IsJob's: Random's first
    // values for nearby seeds move together, and seeded there no job case was ever cancelled.
    private ulong Draw(int index, ulong salt)
    {
        var z = unchecked(((ulong)(uint)Seed << 32 | (uint)index) + 0x9E3779B97F4A7C15UL + salt);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }

    /// <summary>Case <paramref name="index"/> of this run.</summary>
    public EdgeFuzzCase Case(int index)
    {
        var random = new Random(unchecked((Seed * 1_000_003) + index));
        var job = IsJob(index);
        var model = Models[random.Next(Models.Length)];
        var binary = !job && model == "credit-risk" && random.Next(5) == 0;
        var (body, headerLength) = binary ? BinaryRequest(random) : (Encoding.UTF8.GetBytes((job ? JobRequest(model, random) : JsonRequest(model, random)).ToJsonString()), (int?)null);
        var path = job
            ? (random.Next(4) == 0 ? $"v2/models/{model}/versions/1/jobs" : $"v2/models/{model}/jobs")
            : $"v2/models/{model}/infer";
        var method = "POST";
        var headers = new List<KeyValuePair<string, string>> { new("Content-Type", binary ? "application/octet-stream" : "application/json") };
        if (headerLength is { } length)
        {
            headers.Add(new("Inference-Header-Content-Length", length.ToString(CultureInfo.InvariantCulture)));
        }

        if (job && random.Next(3) == 0)
        {
            // Answered when the job ends (200 with its status) if it ends within the wait: judged as a followed job is.
            headers.Add(new("Prefer", "wait=" + random.Next(0, 3).ToString(CultureInfo.InvariantCulture)));
        }

        var mutations = new List<string>();
        var count = 1 + (random.Next(4) == 0 ? random.Next(3) : 0);
        for (var m = 0; m < count; m++)
        {
            var kind = random.Next(17);
            mutations.Add(kind switch
            {
                0 => FlipBytes(random, ref body),
                1 => Truncate(random, ref body),
                2 => InsertBytes(random, ref body),
                3 => SwapType(random, ref body),
                4 => HugeNumber(random, ref body),
                5 => DeepNesting(random, ref body),
                6 => DuplicateKey(random, ref body),
                7 => WrongShape(random, ref body),
                8 => WrongDataType(random, ref body),
                9 => BinaryLength(random, headers, body),
                10 => OddHeader(random, headers),
                11 => OddPath(random, ref path, model),
                12 => OddMethod(random, ref method),
                13 => ReplaceNode(random, ref body),
                14 => EmptyOrWhitespace(random, ref body),
                15 => HugeArray(random, ref body),
                _ => UnpairedEscape(random, ref body),
            });
        }

        return new EdgeFuzzCase(index, string.Join('+', mutations), method, path, method is "GET" or "HEAD" ? null : body, headers);
    }

    /// <summary>
    /// Sends cases <c>0 … cases-1</c> through <paramref name="client"/> (base address: the gateway's <c>/api/</c>),
    /// <paramref name="parallelism"/> at a time, each with one of <paramref name="tokens"/>, until all are sent or
    /// <paramref name="timeBound"/> has passed; a request not answered within <paramref name="requestTimeout"/> is a hang.
    /// </summary>
    public async Task<EdgeFuzzReport> RunAsync(
        HttpClient client,
        IReadOnlyList<string> tokens,
        int cases,
        int parallelism,
        TimeSpan timeBound,
        TimeSpan requestTimeout,
        IProgress<int>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentOutOfRangeException.ThrowIfLessThan(tokens.Count, 1);
        var report = new EdgeFuzzReport();
        var clock = Stopwatch.StartNew();
        var next = -1;
        var sent = 0;
        var gate = new object();
        async Task WorkerAsync()
        {
            while (true)
            {
                var index = Interlocked.Increment(ref next);
                if (index >= cases || cancellationToken.IsCancellationRequested)
                {
                    return;
                }

                if (clock.Elapsed > timeBound)
                {
                    report.StoppedAtDeadline = true;
                    return;
                }

                var fuzz = Case(index);
                var token = tokens[index % tokens.Count];
                var (status, body) = await SendAsync(client, fuzz, token, requestTimeout, cancellationToken).ConfigureAwait(false);
                JobEnding job = default;
                string? routeProblem = null;
                var probed = false;
                if ((status is 200 or 202) && IsJobSubmission(fuzz))
                {
                    var probedId = ProbesJobRoutes(index) ? JobRouteProbes.IdOf(body) : null;
                    probed = probedId is not null;
                    var other = OtherCallerToken ?? tokens[(index + 1) % tokens.Count];
                    if (probedId is not null && other != token)
                    {
                        routeProblem = await ProbeAsync(ct => JobRouteProbes.AsAnotherCallerAsync(client, other, probedId, ct)).ConfigureAwait(false);
                    }

                    job = await FollowJobAsync(client, token, body, requestTimeout, CancelsJob(index), cancellationToken).ConfigureAwait(false);
                    if (probed && routeProblem is null && job.Problem is null && job.Id is not null)
                    {
                        var random = new Random(unchecked((int)Draw(index, 0x2545F4914F6CDD1DUL)));
                        routeProblem = await ProbeAsync(ct => JobRouteProbes.AsItsCallerAsync(client, token, job, random, ct)).ConfigureAwait(false);
                    }
                }

                lock (gate)
                {
                    sent++;
                    if (status is null)
                    {
                        report.Hangs.Add((index, fuzz.Mutation));
                    }
                    else
                    {
                        report.Statuses[status.Value] = report.Statuses.GetValueOrDefault(status.Value) + 1;
                        if (status is >= 500 or 0)
                        {
                            report.ServerErrors.Add((index, fuzz.Mutation, status.Value, body));
                        }
                        else if (UnderFunctionsHost && status == 404 && body.Length == 0 && !FunctionMethods.Contains(fuzz.Method))
                        {
                            report.HostAnswers++;
                        }
                        else if (status >= 400 && fuzz.Method != "HEAD" && !IsErrorBody(body))
                        {
                            report.MalformedErrorBodies.Add((index, fuzz.Mutation, status.Value));
                        }

                        if (IsJobSubmission(fuzz) && (status is 200 or 202))
                        {
                            report.JobsFollowed++;
                            if (job.Problem is not null)
                            {
                                report.JobFindings.Add((index, fuzz.Mutation, job.Problem));
                            }
                            else
                            {
                                report.EndedJobs.Add(job);
                            }

                            if (probed)
                            {
                                report.JobsProbed++;
                                if (routeProblem is not null)
                                {
                                    report.RouteFindings.Add((index, fuzz.Mutation, routeProblem));
                                }
                            }
                        }
                    }

                    if (sent % 1000 == 0)
                    {
                        progress?.Report(sent);
                    }
                }
            }
        }

        // Route probes within the per-request timeout, all of them together; no answer at all is a finding too.
        async Task<string?> ProbeAsync(Func<CancellationToken, Task<string?>> probe)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(requestTimeout);
            try
            {
                return await probe(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return string.Create(CultureInfo.InvariantCulture, $"its route probes were not answered within {requestTimeout.TotalSeconds:F0} s");
            }
            catch (HttpRequestException ex)
            {
                return "a route probe got no answer: " + ex.GetType().Name + ": " + ex.Message[..Math.Min(160, ex.Message.Length)];
            }
        }

        await Task.WhenAll(Enumerable.Range(0, parallelism).Select(_ => Task.Run(WorkerAsync, cancellationToken))).ConfigureAwait(false);
        report.Cases = sent;
        report.Elapsed = clock.Elapsed;
        return report;
    }

    /// <summary>Sends one case; the status and body, or a null status when no answer came within <paramref name="timeout"/>.</summary>
    public static async Task<(int? Status, string Body)> SendAsync(HttpClient client, EdgeFuzzCase fuzz, string token, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(fuzz);
        using var request = new HttpRequestMessage(new HttpMethod(fuzz.Method), new Uri(fuzz.Path, UriKind.Relative));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (fuzz.Body is { } body)
        {
            request.Content = new ByteArrayContent(body);
        }

        foreach (var (name, value) in fuzz.Headers)
        {
            if (request.Content is not null && name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase))
            {
                request.Content.Headers.Remove(name);
                request.Content.Headers.TryAddWithoutValidation(name, value);
            }
            else if (!name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase))
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            using var response = await client.SendAsync(request, deadline.Token).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(deadline.Token).ConfigureAwait(false);
            return ((int)response.StatusCode, text);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, string.Empty);
        }
        catch (HttpRequestException ex)
        {
            // No HTTP answer at all (the connection was closed or reset): a finding like a 5xx.
            return (0, ex.GetType().Name);
        }
    }

    /// <summary>A <c>POST</c> to a job route (whatever else was mutated): an accepted one is followed to its end.</summary>
    public static bool IsJobSubmission(EdgeFuzzCase fuzz)
    {
        ArgumentNullException.ThrowIfNull(fuzz);
        var path = fuzz.Path.Split('?')[0];
        return fuzz.Method == "POST" && path.EndsWith("/jobs", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Follows a job the gateway accepted (<paramref name="answer"/>: its 202 or 200 body) until it ends, as a caller does
    /// (<c>GET jobs/{id}</c> with <c>Prefer: wait</c>, waiting out 429s), within <paramref name="timeout"/>; with
    /// <paramref name="cancel"/>, first cancels it (<c>DELETE jobs/{id}</c>, which must answer 202, and may then be <c>cancelling</c> a while). No problem when it
    /// ended <c>completed</c> with one well-formed result per item (released with a V2 response, or refused with an
    /// error), or, cancelled, <c>cancelled</c>; otherwise what was wrong.
    /// </summary>
    public static async Task<JobEnding> FollowJobAsync(HttpClient client, string token, string answer, TimeSpan timeout, bool cancel, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        string id;
        int items;
        try
        {
            using var accepted = JsonDocument.Parse(answer);
            if (accepted.RootElement.ValueKind != JsonValueKind.Object || !accepted.RootElement.TryGetProperty("id", out var idElement) || idElement.GetString() is not { Length: > 0 } value)
            {
                return new("accepted without a job id", null, 0, false);
            }

            id = value;
            if (JudgeSettled(accepted.RootElement, cancelled: false, out items) is { } early)
            {
                return new(early.Length == 0 ? null : early, id, items, false);
            }
        }
        catch (JsonException)
        {
            return new("accepted with a body that is not JSON", null, 0, false);
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            if (cancel)
            {
                var (code, text) = await JobRouteProbes.SendAsync(client, HttpMethod.Delete, JobRouteProbes.JobPath(id), token, prefer: null, deadline.Token).ConfigureAwait(false);
                using var document = JsonDocument.Parse(text);
                if (code != System.Net.HttpStatusCode.Accepted
                    || !document.RootElement.TryGetProperty("status", out var state)
                    || state.GetString() is not ("cancelled" or "cancelling" or "completed"))
                {
                    return new(string.Create(CultureInfo.InvariantCulture, $"its cancel answered {(int)code}: {text[..Math.Min(200, text.Length)]}"), id, 0, true);
                }
            }

            while (true)
            {
                var (code, text) = await JobRouteProbes.SendAsync(client, HttpMethod.Get, JobRouteProbes.JobPath(id), token, prefer: "wait=5", deadline.Token).ConfigureAwait(false);
                if (code != System.Net.HttpStatusCode.OK)
                {
                    return new(string.Create(CultureInfo.InvariantCulture, $"its status answered {(int)code}"), id, 0, cancel);
                }

                using var document = JsonDocument.Parse(text);
                if (JudgeSettled(document.RootElement, cancel, out items) is { } verdict)
                {
                    var cancelled = document.RootElement.GetProperty("status").GetString() == "cancelled";
                    return new(verdict.Length == 0 ? null : verdict, id, items, cancelled);
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new(string.Create(CultureInfo.InvariantCulture, $"not ended within {timeout.TotalSeconds:F0} s"), id, 0, cancel);
        }
        catch (JsonException)
        {
            return new("its status or cancel answer was not JSON", id, 0, cancel);
        }
        catch (HttpRequestException ex)
        {
            return new("its status or cancel got no answer: " + ex.GetType().Name, id, 0, cancel);
        }
    }

    // Null while the job is pending or running; "" when it ended well (with its number of items); otherwise what is wrong
    // with how it ended. A job its follower cancelled may also end "cancelled", with its items, and the results of the
    // items it audited ("done" of them, in order), or none (a job that ended cancelled before 2026-12-08).
    internal static string? JudgeSettled(JsonElement status, bool cancelled, out int items)
    {
        items = 0;
        var state = status.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
        if (state is "pending" or "running" || (cancelled && state == "cancelling"))
        {
            return null;
        }

        if (cancelled && state == "cancelled")
        {
            if (!status.TryGetProperty("items", out var total) || !total.TryGetInt32(out var all) || all < 1)
            {
                return "cancelled without its items";
            }

            if (status.TryGetProperty("results", out var partial))
            {
                var done = status.TryGetProperty("done", out var d) && d.TryGetInt32(out var n) ? n : -1;
                if (partial.ValueKind != JsonValueKind.Array || done < 1 || done > all)
                {
                    return "cancelled with results but no count of its items done";
                }

                if (JudgeResults(partial, done, "cancelled") is { } wrong)
                {
                    return wrong;
                }
            }

            items = all;
            return "";
        }

        if (state != "completed")
        {
            return "ended " + (state ?? "without a status");
        }

        if (!status.TryGetProperty("items", out var itemsElement) || !itemsElement.TryGetInt32(out var count)
            || !status.TryGetProperty("results", out var results) || results.ValueKind != JsonValueKind.Array)
        {
            return "completed without items and results";
        }

        if (JudgeResults(results, count, "completed") is { } problem)
        {
            return problem;
        }

        items = count;
        return "";
    }

    // Null when results holds one well-formed result per item, indexed 0 to count - 1 in order; otherwise what is wrong.
    private static string? JudgeResults(JsonElement results, int count, string state)
    {
        if (results.GetArrayLength() != count)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{state} with {results.GetArrayLength()} results for {count} items");
        }

        var expected = 0;
        foreach (var result in results.EnumerateArray())
        {
            var outcome = result.TryGetProperty("outcome", out var o) && o.ValueKind == JsonValueKind.String ? o.GetString() : null;
            var index = result.TryGetProperty("index", out var i) && i.TryGetInt32(out var n) ? n : -1;
            var response = result.TryGetProperty("response", out var r) ? r : default;
            var error = result.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String && e.GetString()!.Length > 0;
            var wellFormed = index == expected && outcome switch
            {
                null or "" => false,
                "released" => response.ValueKind == JsonValueKind.Object && response.TryGetProperty("outputs", out var outputs) && outputs.ValueKind == JsonValueKind.Array && !error,
                _ => response.ValueKind == JsonValueKind.Undefined && error,
            };
            if (!wellFormed)
            {
                return string.Create(CultureInfo.InvariantCulture, $"result {expected} malformed: {result.GetRawText()[..Math.Min(200, result.GetRawText().Length)]}");
            }

            expected++;
        }

        return null;
    }

    internal static bool IsErrorBody(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("error", out var error)
                && error.ValueKind == JsonValueKind.String;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static JsonObject JsonRequest(string model, Random random)
    {
        var rows = 1 + random.Next(3);
        JsonObject tensor;
        if (model == "credit-risk")
        {
            var data = new JsonArray();
            for (var i = 0; i < rows * 4; i++)
            {
                data.Add(Math.Round(random.NextDouble() * 10, 2));
            }

            tensor = new JsonObject { ["name"] = "features", ["shape"] = new JsonArray(rows, 4), ["datatype"] = "FP32", ["data"] = data };
        }
        else
        {
            var data = new JsonArray();
            for (var i = 0; i < rows; i++)
            {
                data.Add(random.Next(0, 8));
            }

            tensor = new JsonObject { ["name"] = "customer_id", ["shape"] = new JsonArray(rows), ["datatype"] = "INT64", ["data"] = data };
        }

        var request = new JsonObject { ["inputs"] = new JsonArray(tensor) };
        if (random.Next(3) == 0)
        {
            request["id"] = "fuzz-" + random.Next();
        }

        return request;
    }

    // A job body: one V2 request (a quarter of them) or {"items":[...]} with 1–4 of them.
    private static JsonObject JobRequest(string model, Random random)
    {
        if (random.Next(4) == 0)
        {
            return JsonRequest(model, random);
        }

        var items = new JsonArray();
        var count = 1 + random.Next(4);
        for (var i = 0; i < count; i++)
        {
            items.Add(JsonRequest(model, random));
        }

        return new JsonObject { ["items"] = items };
    }

    // One binary request in eight carries 4,096–20,479 rows (64–320 KiB of tensor): past the policy's maxBatch, so it
    // is refused, but only after the body has been read into pooled buffers across many of the edge's 64 KiB blocks.
    private static (byte[] Body, int HeaderLength) BinaryRequest(Random random)
    {
        var rows = random.Next(8) == 0 ? 4096 + random.Next(16_384) : 1 + random.Next(3);
        var header = Encoding.UTF8.GetBytes(
            "{\"inputs\":[{\"name\":\"features\",\"shape\":[" + rows.ToString(CultureInfo.InvariantCulture)
            + ",4],\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":" + (rows * 16).ToString(CultureInfo.InvariantCulture) + "}}]}");
        var raw = new byte[rows * 16];
        for (var i = 0; i < rows * 4; i++)
        {
            BitConverter.TryWriteBytes(raw.AsSpan(i * 4), (float)Math.Round(random.NextDouble() * 10, 2));
        }

        return ([.. header, .. raw], header.Length);
    }

    private static string FlipBytes(Random random, ref byte[] body)
    {
        if (body.Length == 0)
        {
            return "flip(empty)";
        }

        var copy = body.ToArray();
        var flips = 1 + random.Next(8);
        for (var i = 0; i < flips; i++)
        {
            copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
        }

        body = copy;
        return "flip";
    }

    private static string Truncate(Random random, ref byte[] body)
    {
        body = body[..random.Next(body.Length + 1)];
        return "truncate";
    }

    private static string InsertBytes(Random random, ref byte[] body)
    {
        var at = random.Next(body.Length + 1);
        var insert = new byte[1 + random.Next(16)];
        random.NextBytes(insert);
        if (random.Next(2) == 0)
        {
            // Structural characters rather than noise.
            const string structural = "{}[]\",:\\ 0e-.\u00e9\ud83d\ude00";
            var text = new string(Enumerable.Range(0, insert.Length).Select(_ => structural[random.Next(structural.Length)]).ToArray());
            insert = Encoding.UTF8.GetBytes(text);
        }

        body = [.. body[..at], .. insert, .. body[at..]];
        return "insert";
    }

    private static string SwapType(Random random, ref byte[] body) => WithJson(random, ref body, "swap-type", (root, r) =>
    {
        var (parent, key) = PickNode(root, r);
        if (parent is null)
        {
            return false;
        }

        Set(parent, key, RandomValue(r, 0));
        return true;
    });

    private static string ReplaceNode(Random random, ref byte[] body) => WithJson(random, ref body, "replace", (root, r) =>
    {
        var (parent, key) = PickNode(root, r);
        if (parent is null)
        {
            return false;
        }

        if (parent is JsonObject obj && r.Next(3) == 0)
        {
            obj.Remove((string)key);
        }
        else
        {
            Set(parent, key, RandomValue(r, 2));
        }

        return true;
    });

    private static string HugeNumber(Random random, ref byte[] body)
    {
        var text = Encoding.UTF8.GetString(body);
        var number = Numbers[random.Next(Numbers.Length)];
        var digits = System.Text.RegularExpressions.Regex.Matches(text, "-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?");
        if (digits.Count == 0)
        {
            return "number(none)";
        }

        var target = digits[random.Next(digits.Count)];
        body = Encoding.UTF8.GetBytes(text[..target.Index] + number + text[(target.Index + target.Length)..]);
        return "number";
    }

    private static string DeepNesting(Random random, ref byte[] body)
    {
        var depth = random.Next(2) == 0 ? 60 + random.Next(10) : 500 + random.Next(20_000);
        var open = random.Next(2) == 0 ? "[" : "{\"a\":";
        var close = open == "[" ? "]" : "}";
        var nested = string.Concat(Enumerable.Repeat(open, depth)) + "1" + string.Concat(Enumerable.Repeat(close, depth));
        var text = Encoding.UTF8.GetString(body);
        var at = text.IndexOf("\"data\":", StringComparison.Ordinal);
        if (at >= 0 && random.Next(2) == 0)
        {
            var end = text.IndexOf(']', at);
            body = end < 0 ? Encoding.UTF8.GetBytes(nested) : Encoding.UTF8.GetBytes(text[..(at + 7)] + nested + text[(end + 1)..]);
        }
        else
        {
            body = Encoding.UTF8.GetBytes("{\"inputs\":" + nested + "}");
        }

        return "nesting";
    }

    private static string DuplicateKey(Random random, ref byte[] body)
    {
        var text = Encoding.UTF8.GetString(body);
        string[] keys = ["\"inputs\":[],", "\"name\":\"features\",", "\"shape\":[1],", "\"datatype\":\"FP32\",", "\"data\":[1],", "\"id\":\"x\",", "\"parameters\":{},"];
        var key = keys[random.Next(keys.Length)];
        var braces = Enumerable.Range(0, text.Length).Where(i => text[i] == '{').ToList();
        if (braces.Count == 0)
        {
            return "duplicate(none)";
        }

        var at = braces[random.Next(braces.Count)] + 1;
        body = Encoding.UTF8.GetBytes(text[..at] + key + text[at..]);
        return "duplicate";
    }

    private static string WrongShape(Random random, ref byte[] body) => WithJson(random, ref body, "shape", (root, r) =>
    {
        if (FirstTensor(root) is not { } tensor)
        {
            return false;
        }

        JsonNode[] shapes =
        [
            new JsonArray(-1, 4), new JsonArray(4611686018427387904L, 4), new JsonArray(0, 4), new JsonArray(),
            new JsonArray(1, 2, 2), new JsonArray(2147483647, 2147483647, 2147483647), new JsonArray(1.5, 4), new JsonArray("1", 4),
            new JsonArray(Enumerable.Range(0, 70).Select(_ => (JsonNode?)1).ToArray()), new JsonArray(1000000, 4), JsonValue.Create(4)!,
        ];
        tensor["shape"] = shapes[r.Next(shapes.Length)].DeepClone();
        return true;
    });

    private static string WrongDataType(Random random, ref byte[] body) => WithJson(random, ref body, "datatype", (root, r) =>
    {
        if (FirstTensor(root) is not { } tensor)
        {
            return false;
        }

        tensor["datatype"] = DataTypes[r.Next(DataTypes.Length)];
        return true;
    });

    private static string BinaryLength(Random random, List<KeyValuePair<string, string>> headers, byte[] body)
    {
        string[] values = ["-1", "0", "1", (body.Length + 1).ToString(CultureInfo.InvariantCulture), body.Length.ToString(CultureInfo.InvariantCulture), "2147483648", "99999999999999999999", "abc", " 12", "1e3", "0x10", ""];
        headers.RemoveAll(h => h.Key == "Inference-Header-Content-Length");
        headers.Add(new("Inference-Header-Content-Length", values[random.Next(values.Length)]));
        if (random.Next(2) == 0)
        {
            headers.RemoveAll(h => h.Key == "Content-Type");
            headers.Add(new("Content-Type", "application/octet-stream"));
        }

        return "binary-length";
    }

    private static string OddHeader(Random random, List<KeyValuePair<string, string>> headers)
    {
        switch (random.Next(5))
        {
            case 0:
                headers.RemoveAll(h => h.Key == "Content-Type");
                headers.Add(new("Content-Type", ContentTypes[random.Next(ContentTypes.Length)]));
                return "content-type";
            case 1:
                headers.Add(new("Content-Encoding", random.Next(2) == 0 ? "gzip" : "identity, br"));
                return "content-encoding";
            case 2:
                headers.Add(new("Prefer", "wait=" + random.Next(-5, 100_000).ToString(CultureInfo.InvariantCulture)));
                return "prefer";
            case 3:
                headers.Add(new("Signature-Input", "sig=(\"@method\");created=" + random.Next()));
                headers.Add(new("Signature", "sig=:" + Convert.ToBase64String(RandomBytes(random, 64)) + ":"));
                return "signature";
            default:
                headers.Add(new("X-Fuzz-" + random.Next(1000).ToString(CultureInfo.InvariantCulture), new string('a', random.Next(1, 4000))));
                return "extra-header";
        }
    }

    private static string OddPath(Random random, ref string path, string model)
    {
        string[] names = [model, "", "%01", "..%2F..%2Fetc", "a%0A", new string('m', 129), "%E2%80%AE", "Credit-Risk", "credit_risk", "-", "%25", "m%2Fv", "\u00e9"];
        string[] versions = ["1", "0", "99", "-1", "1.0", "%20", new string('9', 40), "latest", "1%0A"];
        string[] tails = ["infer", "ready", "", "jobs", "infer/", "INFER", "infer?x=1", "infer%3F"];
        var name = names[random.Next(names.Length)];
        path = random.Next(2) == 0
            ? $"v2/models/{name}/{tails[random.Next(tails.Length)]}"
            : $"v2/models/{name}/versions/{versions[random.Next(versions.Length)]}/{tails[random.Next(tails.Length)]}";
        return "path";
    }

    private static string OddMethod(Random random, ref string method)
    {
        string[] methods = ["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "FUZZ"];
        method = methods[random.Next(methods.Length)];
        return "method";
    }

    private static string EmptyOrWhitespace(Random random, ref byte[] body)
    {
        string[] bodies = ["", " ", "\n", "{}", "[]", "null", "\"inputs\"", "{\"inputs\":null}", "{\"inputs\":[]}", "{\"inputs\":[{}]}", "\uFEFF{}", "{\"inputs\":[]}garbage"];
        body = Encoding.UTF8.GetBytes(bodies[random.Next(bodies.Length)]);
        return "empty";
    }

    // Half a surrogate pair, escaped, just after one of the body's quotes: at the start of a name or a string (or just after
    // one, which breaks the JSON). Valid JSON grammar but not I-JSON, and System.Text.Json throws on decoding it
    // (JsonEscapes): a name holding one was once answered 500.
    private static string UnpairedEscape(Random random, ref byte[] body)
    {
        var quotes = new List<int>();
        for (var i = 0; i < body.Length; i++)
        {
            if (body[i] == (byte)'"')
            {
                quotes.Add(i);
            }
        }

        if (quotes.Count == 0)
        {
            return "unpaired-escape(no string)";
        }

        var at = quotes[random.Next(quotes.Count)] + 1;
        var half = (random.Next(2) == 0 ? "\\ud" + "89ab"[random.Next(4)] : "\\ud" + "cdef"[random.Next(4)]) + random.Next(256).ToString("x2", CultureInfo.InvariantCulture);
        body = [.. body.AsSpan(0, at), .. Encoding.ASCII.GetBytes(half), .. body.AsSpan(at)];
        return "unpaired-escape";
    }

    private static string HugeArray(Random random, ref byte[] body) => WithJson(random, ref body, "huge-array", (root, r) =>
    {
        if (FirstTensor(root) is not { } tensor)
        {
            return false;
        }

        var count = r.Next(2) == 0 ? 4 + r.Next(100) : 100_000 + r.Next(200_000);
        var data = new StringBuilder("[");
        for (var i = 0; i < count; i++)
        {
            data.Append(i == 0 ? "" : ",").Append(r.Next(10));
        }

        tensor["data"] = JsonNode.Parse(data.Append(']').ToString());
        if (r.Next(2) == 0)
        {
            tensor["shape"] = new JsonArray(count / 4, 4);
        }

        return true;
    });

    private static string WithJson(Random random, ref byte[] body, string name, Func<JsonNode, Random, bool> mutate)
    {
        try
        {
            var root = JsonNode.Parse(body);
            if (root is null || !mutate(root, random))
            {
                return name + "(none)";
            }

            body = Encoding.UTF8.GetBytes(root.ToJsonString());
            return name;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
        {
            // Not JSON any more (an earlier mutation broke it): this mutation has nothing to work on.
            return name + "(unparsed)";
        }
    }

    // The first tensor of the request, or of a job's first item.
    private static JsonObject? FirstTensor(JsonNode root) =>
        root is JsonObject obj && obj["inputs"] is JsonArray { Count: > 0 } inputs && inputs[0] is JsonObject tensor ? tensor
        : root is JsonObject job && job["items"] is JsonArray { Count: > 0 } items && items[0] is { } item ? FirstTensor(item) : null;

    private static (JsonNode? Parent, object Key) PickNode(JsonNode root, Random random)
    {
        var candidates = new List<(JsonNode Parent, object Key)>();
        void Walk(JsonNode node)
        {
            switch (node)
            {
                case JsonObject obj:
                    foreach (var (key, child) in obj.ToList())
                    {
                        candidates.Add((obj, key));
                        if (child is not null)
                        {
                            Walk(child);
                        }
                    }

                    break;
                case JsonArray array:
                    for (var i = 0; i < array.Count; i++)
                    {
                        candidates.Add((array, i));
                        if (array[i] is { } child)
                        {
                            Walk(child);
                        }
                    }

                    break;
            }
        }

        Walk(root);
        return candidates.Count == 0 ? (null, 0) : candidates[random.Next(candidates.Count)];
    }

    private static void Set(JsonNode parent, object key, JsonNode? value)
    {
        if (parent is JsonObject obj)
        {
            obj[(string)key] = value;
        }
        else
        {
            ((JsonArray)parent)[(int)key] = value;
        }
    }

    private static JsonNode? RandomValue(Random random, int depth) => random.Next(depth > 0 ? 9 : 7) switch
    {
        0 => null,
        1 => JsonValue.Create(random.Next(2) == 0),
        2 => JsonValue.Create(random.Next(int.MinValue, int.MaxValue)),
        3 => JsonValue.Create(random.NextDouble() * Math.Pow(10, random.Next(-300, 300))),
        4 => JsonValue.Create(new string((char)random.Next(0x20, 0x7f), random.Next(0, 20))),
        5 => JsonValue.Create("\u0000\u001f\u2028x"),
        6 => new JsonArray(),
        7 => new JsonArray(RandomValue(random, depth - 1), RandomValue(random, depth - 1)),
        _ => new JsonObject { ["k" + random.Next(3).ToString(CultureInfo.InvariantCulture)] = RandomValue(random, depth - 1) },
    };

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}

/// <summary>How a followed job ended: what was wrong (null: nothing), its id, its number of items, and whether it ended cancelled.</summary>
public readonly record struct JobEnding(string? Problem, string? Id, int Items, bool Cancelled);
