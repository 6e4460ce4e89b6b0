using System.Security.Cryptography;

namespace ServerlessServe.Hosting.Admin;

/// <summary>The public keys checkpoint signatures are checked with when the admin plane lists checkpoints.</summary>
internal sealed class AdminCheckpointKeys(IReadOnlyList<ECDsa> keys)
{
    public IReadOnlyList<ECDsa> Keys => keys;
}
