namespace ServerlessServe.Local.Fuzz;

/// <summary>What a fuzz run found: cases sent, answers by status class, and every case answered 5xx or not answered in time.</summary>
public sealed class EdgeFuzzReport
{
    /// <summary>Cases sent.</summary>
    public int Cases { get; set; }

    /// <summary>How long the run took.</summary>
    public TimeSpan Elapsed { get; set; }

    /// <summary>Answers per status code.</summary>
    public SortedDictionary<int, int> Statuses { get; } = [];

    /// <summary>Cases answered with a 5xx status, or not answered at all (status 0: the connection failed): index, mutation, status.</summary>
    public List<(int Index, string Mutation, int Status, string Body)> ServerErrors { get; } = [];

    /// <summary>Cases not answered within the per-request timeout.</summary>
    public List<(int Index, string Mutation)> Hangs { get; } = [];

    /// <summary>Cases whose error body was not the V2 error body (<c>{"error": "..."}</c> as JSON).</summary>
    public List<(int Index, string Mutation, int Status)> MalformedErrorBodies { get; } = [];

    /// <summary>Job submissions the gateway accepted, each followed to its end.</summary>
    public int JobsFollowed { get; set; }

    /// <summary>
    /// Accepted jobs that ended well: completed (each item should have one audit record) or, cancelled by the fuzzer,
    /// cancelled (each item at most one).
    /// </summary>
    public List<JobEnding> EndedJobs { get; } = [];

    /// <summary>Accepted jobs that did not end <c>completed</c> with one well-formed result per item, or not in time: index, mutation, what was wrong.</summary>
    public List<(int Index, string Mutation, string Problem)> JobFindings { get; } = [];

    /// <summary>Accepted jobs whose routes were probed (<see cref="JobRouteProbes"/>).</summary>
    public int JobsProbed { get; set; }

    /// <summary>Probed jobs whose routes answered wrong (another caller reached it, a mutated id named it, a probe changed it): index, mutation, what was wrong.</summary>
    public List<(int Index, string Mutation, string Problem)> RouteFindings { get; } = [];

    /// <summary>
    /// Under the Functions host: the host's own empty 404s to a method no function lists (see
    /// <see cref="EdgeFuzzer.UnderFunctionsHost"/>). Counted, not findings.
    /// </summary>
    public int HostAnswers { get; set; }

    /// <summary>True when the run stopped at its time bound before sending every case.</summary>
    public bool StoppedAtDeadline { get; set; }
}
