namespace ServerlessServe.Hosting.Identity;

/// <summary>No usable token for the inference app: the managed identity endpoint failed and no cached token is left.</summary>
internal sealed class ServiceTokenUnavailableException(Exception inner) : Exception("No token for the inference app could be acquired.", inner);
