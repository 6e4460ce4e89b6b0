using System.Text.Json;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Core.Protocol;

/// <summary>
/// The body of a job submission (docs/protocol.md, "Jobs"): one V2 request object, or <c>{"items": [...]}</c> holding
/// one or more of them. Only the body's JSON shape is checked here; each item is read and validated on its own by the
/// job, so one malformed item is refused alone.
/// </summary>
public static class JobItems
{
    /// <summary>
    /// The body's items as JSON text, each exactly as the caller wrote it; an item that is not an object is <c>null</c>
    /// (refused when the job reads it). A body that is not UTF-8 JSON (RFC 8259) whose root is an object, nests deeper
    /// than <paramref name="maxDepth"/> items need plus the wrapper's two levels, or holds an <c>items</c> that is not a
    /// non-empty array beside nothing else, is refused as invalid; more than <paramref name="maxItems"/> items as too
    /// large. Throws nothing but <see cref="RefusedException"/> for any body.
    /// </summary>
    public static IReadOnlyList<string> Split(byte[] body, int maxItems, int maxDepth)
    {
        ArgumentNullException.ThrowIfNull(body);

        // JSON is UTF-8 (RFC 8259): ill-formed bytes inside a string would otherwise throw when a property name is read.
        // Nor may an escape leave half a surrogate pair: reading the property names would throw (JsonEscapes).
        if (!System.Text.Unicode.Utf8.IsValid(body) || !JsonEscapes.AreWellFormed(body, new JsonReaderOptions { MaxDepth = maxDepth + 2 }))
        {
            throw new RefusedException(Refusal.Invalid("the body is not valid JSON"));
        }

        JsonDocument document;
        try
        {
            // The job's wrapper is two levels more than an item; validate holds each item to the protocol's own limits.
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = maxDepth + 2 });
        }
        catch (JsonException)
        {
            throw new RefusedException(Refusal.Invalid("the body is not valid JSON"));
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new RefusedException(Refusal.Invalid("a job is a V2 request object or {\"items\": [...]}"));
            }

            if (!root.TryGetProperty("items", out var items))
            {
                return [root.GetRawText()];
            }

            if (items.ValueKind != JsonValueKind.Array || items.GetArrayLength() == 0 || root.EnumerateObject().Count() != 1)
            {
                throw new RefusedException(Refusal.Invalid("\"items\" must be the only property: a non-empty array of V2 requests"));
            }

            if (items.GetArrayLength() > maxItems)
            {
                throw new RefusedException(Refusal.TooLarge($"a job holds at most {maxItems} items"));
            }

            // Each item is checked on its own by the job (a malformed one is refused alone); here only its JSON shape.
            return items.EnumerateArray().Select(i => i.ValueKind == JsonValueKind.Object ? i.GetRawText() : "null").ToList();
        }
    }
}
