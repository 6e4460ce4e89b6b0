using System.Text.Json;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Jobs;

/// <summary>An item's entry in its job's result.</summary>
internal static class JobResults
{
    public static ItemResult For(ItemState item, string? receipt = null)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (item.RefusalKind is { } kind)
        {
            var refusal = new Refusal(kind, item.RefusalMessage ?? "");
            return new ItemResult(item.Index, refusal.KindName, null, refusal.Message, receipt, item.RefusalRetryAfter);
        }

        using var released = JsonDocument.Parse(item.Released ?? "{}");
        return new ItemResult(item.Index, "released", released.RootElement.Clone(), null, receipt);
    }
}
