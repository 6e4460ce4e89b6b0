using System.Security.Cryptography;
using ServerlessServe.Core.Signatures;

namespace ServerlessServe.Core.Tests.Signatures;

/// <summary>What counts as a caller's request key: an ECDSA P-256 public key named as such, nothing else, and never a throw.</summary>
public sealed class RequestKeyImportTests
{
    [Fact]
    public void NamedP256_Imported()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        using var imported = RequestKeyStore.ImportKey(key.ExportSubjectPublicKeyInfo());

        Assert.NotNull(imported);
    }

    /// <summary>
    /// P-256 with its curve given by explicit parameters, P-384, an RSA key, trailing bytes and garbage: no key, and no
    /// exception (found in review 2026-12-07: reading the OID of an explicit curve could throw, failing an admin
    /// registration with 500 and every refresh of the key table that held such a row).
    /// </summary>
    [Fact]
    public void AnythingElse_NoKey()
    {
        using var p256 = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        using var rsa = RSA.Create(2048);

        Assert.Null(RequestKeyStore.ImportKey(ExplicitSpki(p256)));
        Assert.Null(RequestKeyStore.ImportKey(p384.ExportSubjectPublicKeyInfo()));
        Assert.Null(RequestKeyStore.ImportKey(rsa.ExportSubjectPublicKeyInfo()));
        Assert.Null(RequestKeyStore.ImportKey([.. p256.ExportSubjectPublicKeyInfo(), 0]));
        Assert.Null(RequestKeyStore.ImportKey([1, 2, 3]));
    }

    // The SubjectPublicKeyInfo of a P-256 key whose algorithm parameters spell out the curve (SEC 1 ECParameters)
    // instead of naming it.
    private static byte[] ExplicitSpki(ECDsa key)
    {
        var parameters = key.ExportExplicitParameters(false);
        var curve = parameters.Curve;
        var writer = new System.Formats.Asn1.AsnWriter(System.Formats.Asn1.AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier("1.2.840.10045.2.1");
                using (writer.PushSequence())
                {
                    writer.WriteInteger(1);
                    using (writer.PushSequence())
                    {
                        writer.WriteObjectIdentifier("1.2.840.10045.1.1");
                        writer.WriteIntegerUnsigned(curve.Prime);
                    }

                    using (writer.PushSequence())
                    {
                        writer.WriteOctetString(curve.A);
                        writer.WriteOctetString(curve.B);
                    }

                    writer.WriteOctetString([0x04, .. curve.G.X!, .. curve.G.Y!]);
                    writer.WriteIntegerUnsigned(curve.Order);
                    writer.WriteIntegerUnsigned(curve.Cofactor);
                }
            }

            writer.WriteBitString([0x04, .. parameters.Q.X!, .. parameters.Q.Y!]);
        }

        return writer.Encode();
    }
}
