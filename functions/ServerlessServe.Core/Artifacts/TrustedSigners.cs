using System.Security.Cryptography;

namespace ServerlessServe.Core.Artifacts;

/// <summary>
/// The public keys whose manifest signatures the platform accepts, by key id (see <see cref="KeyIds"/>).
/// Immutable once built; verification is thread-safe.
/// </summary>
public sealed class TrustedSigners : IDisposable
{
    private readonly Dictionary<string, ECDsa> _keys;

    private TrustedSigners(Dictionary<string, ECDsa> keys)
    {
        _keys = keys;
    }

    /// <summary>Key ids of the trusted signers.</summary>
    public IReadOnlyCollection<string> KeyIds => _keys.Keys;

    public int Count => _keys.Count;

    /// <summary>Builds the set from PEM public keys (SubjectPublicKeyInfo, P-256 only; a private key is refused).</summary>
    public static TrustedSigners FromPem(IEnumerable<string> publicKeyPems)
    {
        ArgumentNullException.ThrowIfNull(publicKeyPems);
        var keys = new Dictionary<string, ECDsa>(StringComparer.Ordinal);
        try
        {
            foreach (var pem in publicKeyPems)
            {
                var key = SigningKeys.ImportPublicKeyPem(pem);
                if (!keys.TryAdd(Artifacts.KeyIds.Compute(key), key))
                {
                    key.Dispose();
                }
            }
        }
        catch
        {
            foreach (var key in keys.Values)
            {
                key.Dispose();
            }

            throw;
        }

        return new TrustedSigners(keys);
    }

    /// <summary>Builds the set from the public parts of <paramref name="keys"/> (handy in tests and in <c>ssctl up</c>).</summary>
    public static TrustedSigners FromKeys(params ECDsa[] keys) =>
        FromPem(keys.Select(SigningKeys.ExportPublicKeyPem));

    public bool Contains(string keyId) => _keys.ContainsKey(keyId);

    /// <summary>
    /// Finds the trusted key that verifies <paramref name="signature"/> (IEEE P1363, ECDSA P-256/SHA-256) over
    /// <paramref name="data"/>; false when none does.
    /// </summary>
    public bool TryVerify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature, out string keyId)
    {
        foreach (var (id, key) in _keys)
        {
            if (key.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
            {
                keyId = id;
                return true;
            }
        }

        keyId = string.Empty;
        return false;
    }

    public void Dispose()
    {
        foreach (var key in _keys.Values)
        {
            key.Dispose();
        }
    }
}
