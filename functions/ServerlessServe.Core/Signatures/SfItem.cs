namespace ServerlessServe.Core.Signatures;

/// <summary>An RFC 8941 item: a bare item (<see cref="string"/>, <see cref="long"/>, <see cref="byte"/>[], <see cref="SfToken"/>, <see cref="bool"/>) and its parameters, in order.</summary>
internal sealed record SfItem(object Value, IReadOnlyList<KeyValuePair<string, object>> Parameters);
