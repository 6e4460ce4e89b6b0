using System.Text;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Fuzz;

/// <summary>
/// The fuzz target of a job submission's body: one input is the body (JSON), which the gateway splits into items
/// (<see cref="JobItems.Split"/>) and the job reads one by one as its validate step does (<see cref="V2Json.ReadRequest(ReadOnlySpan{byte}, int?, ProtocolLimits, TensorLease?)"/>
/// over the item's UTF-8). A refusal is the expected outcome for bad input; any other exception is a finding. So is a
/// job that means something else than the same request sent to <c>infer</c>:
/// <list type="bullet">
/// <item>a body the sync path reads must split into exactly itself, and its item must read as the same request (id,
/// tensors, parameters, requested outputs); a body it refuses must not become an item that reads;</item>
/// <item>the same request wrapped as <c>{"items": [body]}</c> must split into that one item, read the same;</item>
/// <item>items that all read, wrapped again, must split into the same items (what a client that resubmits a job's
/// items sends).</item>
/// </list>
/// </summary>
public static class JobItemsTarget
{
    private const int MaxItems = 64;

    private static readonly ProtocolLimits Limits = new() { MaxBodyBytes = 1024 * 1024, MaxElementsPerRequest = 65_536 };

    /// <summary>Runs one input; throws only on a finding.</summary>
    public static void Run(ReadOnlySpan<byte> input)
    {
        var body = input.ToArray();
        var sync = Read(body);
        var items = Split(body, out var refused);
        if (items is null)
        {
            if (!sync.StartsWith("refused ", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"a request that infer reads is refused as a job ({refused})");
            }

            return;
        }

        var read = items.Select(i => Read(Encoding.UTF8.GetBytes(i))).ToList();
        if (!sync.StartsWith("refused ", StringComparison.Ordinal))
        {
            if (items.Count != 1 || !string.Equals(read[0], sync, StringComparison.Ordinal))
            {
                throw new InvalidOperationException("a request that infer reads splits into another job than itself");
            }

            var wrapped = Split(Wrap([Encoding.UTF8.GetString(body)]), out refused);
            if (wrapped is not [var only] || !string.Equals(Read(Encoding.UTF8.GetBytes(only)), sync, StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"a request that infer reads, wrapped in \"items\", is another job ({refused ?? wrapped?.Count + " items"})");
            }
        }
        else if (items.Count == 1 && !IsWrapped(body) && !read[0].StartsWith("refused ", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("a request that infer refuses is read as a job's item");
        }

        if (read.All(r => !r.StartsWith("refused ", StringComparison.Ordinal)))
        {
            var again = Split(Wrap(items), out refused);
            if (again is null || !again.SequenceEqual(items, StringComparer.Ordinal))
            {
                throw new InvalidOperationException($"a job's items, wrapped again, split into other items ({refused ?? again?.Count + " items"})");
            }
        }
    }

    private static IReadOnlyList<string>? Split(byte[] body, out string? refused)
    {
        try
        {
            refused = null;
            return JobItems.Split(body, MaxItems, Limits.MaxJsonDepth);
        }
        catch (RefusedException ex)
        {
            refused = $"refused {ex.Kind}: {ex.Message}";
            return null;
        }
    }

    private static string Read(byte[] body) => RequestReaderTarget.Outcome(() => V2Json.ReadRequest(body, null, Limits)) switch
    {
        var refused when refused.StartsWith("refused ", StringComparison.Ordinal) => refused,
        var tensors => tensors + Rest(V2Json.ReadRequest(body, null, Limits)),
    };

    // What Describe leaves out: the parameters and the outputs asked for.
    private static string Rest(InferenceRequest request) =>
        "|parameters " + string.Join(',', request.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + "=" + p.Value.Kind + ":" + p.Value))
        + "|outputs " + (request.Outputs is { } outputs ? string.Join(',', outputs.Select(o => o.Name + ":" + o.BinaryData)) : "all");

    private static byte[] Wrap(IEnumerable<string> items) => Encoding.UTF8.GetBytes("{\"items\":[" + string.Join(',', items) + "]}");

    // Whether the body's root object has an "items" property: then it is a wrapper, not one request.
    private static bool IsWrapped(byte[] body)
    {
        using var document = System.Text.Json.JsonDocument.Parse(body, new System.Text.Json.JsonDocumentOptions { MaxDepth = Limits.MaxJsonDepth + 2 });
        return document.RootElement.TryGetProperty("items", out _);
    }
}
