namespace ServerlessServe.Core.Signatures;

/// <summary>
/// The request keys' view is older than <see cref="SignatureOptions.KeyMaxStaleness"/> and reads of the key table keep
/// failing: signed requests are refused as unavailable rather than checked against keys that may have been revoked.
/// </summary>
public sealed class KeyStoreStaleException() : Exception("The request key table has not been read successfully within the allowed staleness.");
