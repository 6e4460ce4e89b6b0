namespace ServerlessServe.Core.Admin;

/// <summary>
/// One stored model version and its <see cref="ModelVersionStates">state</see>. The manifest's digest, signer and creation
/// time are set when its signature verified; <see cref="Failure"/> names the check a failed version did not pass.
/// </summary>
public sealed record ModelVersionStatus(string Name, string Version, string State)
{
    public string? ManifestDigest { get; init; }

    public string? SignerKeyId { get; init; }

    public DateTimeOffset? Created { get; init; }

    public string? Failure { get; init; }
}
