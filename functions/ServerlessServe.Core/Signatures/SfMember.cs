namespace ServerlessServe.Core.Signatures;

/// <summary>One member of an RFC 8941 dictionary: either an <see cref="Item"/> or an <see cref="InnerList"/> with its <see cref="Parameters"/>.</summary>
internal sealed record SfMember(string Key, SfItem? Item, IReadOnlyList<SfItem>? InnerList, IReadOnlyList<KeyValuePair<string, object>> Parameters);
