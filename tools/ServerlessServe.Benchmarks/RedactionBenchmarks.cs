using BenchmarkDotNet.Attributes;
using ServerlessServe.Core.Policy;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Redaction;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Benchmarks;

/// <summary>
/// The redact stage with the samples' own policies: PII redaction of 16 customer notes (the customer-notes batch limit;
/// every entity kind occurs), and top-k hardening of a full credit-risk batch of 64 rows.
/// </summary>
[MemoryDiagnoser]
public class RedactionBenchmarks
{
    private readonly ResponseRedactor _redactor = new();
    private Tensor[] _notes = null!;
    private ModelPolicy _notesPolicy = null!;
    private Tensor[] _probabilities = null!;
    private ModelPolicy _creditRiskPolicy = null!;

    [GlobalSetup]
    public void Setup()
    {
        _notes = [BenchmarkData.CustomerNotes(16)];
        _notesPolicy = BenchmarkData.Policy(CustomerNotesSample.Name);
        _probabilities = [BenchmarkData.CreditRiskProbabilities(64)];
        _creditRiskPolicy = BenchmarkData.Policy(CreditRiskSample.Name);
    }

    /// <summary>All seven entity kinds enabled (the customer-notes policy); 16 BYTES elements.</summary>
    [Benchmark]
    public RedactionResult Redact_Notes16_AllEntities() => _redactor.Apply(_notes, _notesPolicy);

    /// <summary>Top-2 with labels, rounded to 3 digits (the credit-risk policy); FP32 [64,3].</summary>
    [Benchmark]
    public RedactionResult Harden_TopK_64x3() => _redactor.Apply(_probabilities, _creditRiskPolicy);
}
