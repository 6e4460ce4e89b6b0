using System.Security.Cryptography;
using System.Text;
using Azure.Data.Tables;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Signatures;

namespace ServerlessServe.Benchmarks;

/// <summary>
/// Verifying a signed request as the <c>signature</c> stage does, minus the replay store's round trip (one table insert,
/// I/O not measured here): the caller's pseudonym, strict parsing of <c>Signature-Input</c> and <c>Signature</c>, the
/// window, the key from the in-memory snapshot, <c>Content-Digest</c> against the body, and the ECDSA P-256 verification
/// over the rebuilt signature base.
/// </summary>
[MemoryDiagnoser]
public class SignatureBenchmarks
{
    private const string Subject = "00000000-aaaa-bbbb-cccc-000000000001";
    private const string KeyId = "bench-key";

    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly CallerPseudonymizer _pseudonymizer = new(new byte[32]);
    private RequestKeyRegistry _registry = null!;
    private SignedRequest _small = null!;
    private byte[] _smallBody = null!;
    private SignedRequest _large = null!;
    private byte[] _largeBody = null!;

    [GlobalSetup]
    public void Setup()
    {
        // The table is never read: the snapshot is loaded as a refresh would load it.
        var store = new RequestKeyStore(new TableClient(new Uri("http://127.0.0.1:9/devstoreaccount1"), "requestkeys", new TableSharedKeyCredential("devstoreaccount1", Convert.ToBase64String(new byte[64]))));
        _registry = new RequestKeyRegistry(store, TimeProvider.System, Options.Create(new SignatureOptions()), NullLogger<RequestKeyRegistry>.Instance);
        _registry.Load([new RequestKey(_pseudonymizer.Pseudonymize(Subject), KeyId, _key.ExportSubjectPublicKeyInfo(), DateTimeOffset.UtcNow, null)]);
        _smallBody = Encoding.UTF8.GetBytes("""{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.35,0.4,1,9]}]}""");
        _largeBody = new byte[64 * 1024];
        new Random(7).NextBytes(_largeBody);
        _small = Sign(_smallBody);
        _large = Sign(_largeBody);
        if (Verify(_small, _smallBody) != SignatureFailure.None || Verify(_large, _largeBody) != SignatureFailure.None)
        {
            throw new InvalidOperationException("A benchmark request does not verify.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _key.Dispose();
        _registry.Dispose();
    }

    /// <summary>A credit-risk request (104 B JSON): the signature check's fixed cost.</summary>
    [Benchmark(Baseline = true)]
    public SignatureFailure Verify_SmallBody() => Verify(_small, _smallBody);

    /// <summary>A 64 KiB body: adds the SHA-256 of the body.</summary>
    [Benchmark]
    public SignatureFailure Verify_64KiBBody() => Verify(_large, _largeBody);

    /// <summary>Parsing the two headers alone.</summary>
    [Benchmark]
    public object? ParseHeaders() => SignatureVerifier.Parse(_small);

    private SignatureFailure Verify(SignedRequest request, byte[] body)
    {
        var pseudonym = _pseudonymizer.Pseudonymize(Subject);
        if (SignatureVerifier.Parse(request) is not { } parameters)
        {
            return SignatureFailure.Invalid;
        }

        if (SignatureVerifier.CheckTime(parameters, DateTimeOffset.UtcNow, TimeSpan.FromHours(1), TimeSpan.FromSeconds(30)) is var stale and not SignatureFailure.None)
        {
            return stale;
        }

        return _registry.Find(pseudonym, parameters.KeyId) is { } key
            ? SignatureVerifier.CheckContent(request, parameters, new System.Buffers.ReadOnlySequence<byte>(body), key, null)
            : SignatureFailure.UnknownKey;
    }

    private SignedRequest Sign(byte[] body)
    {
        const string Authorization = "Bearer eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhIn0.c2lnbmF0dXJl";
        var headers = RequestSigner.Sign(_key, KeyId, "POST", "https://serving.example.com/api/v2/models/credit-risk/infer", body, Authorization, DateTimeOffset.UtcNow);
        return new SignedRequest("POST", "https", "serving.example.com", "/api/v2/models/credit-risk/infer", headers.SignatureInput, headers.Signature, headers.ContentDigest, Authorization);
    }
}
