using Google.Protobuf;
using Onnx;

namespace ServerlessServe.Local.Samples;

/// <summary>
/// The leaky sample: a lookup from a customer id to a stored free-text note, as a CRM model might return, where the
/// notes hold personal data of every kind the redactor knows. All of it is fictitious: example.com addresses, payment-card
/// test numbers, the documentation IBAN, the advertising SSN, 555-01xx and drama-range phone numbers, and IP addresses
/// from the documentation ranges. One more record, id <see cref="CanaryCustomerId"/>, is a canary: its note carries
/// <see cref="CanaryToken"/>, which <c>ssctl up</c> configures as a canary value, so a caller that reads it raises a
/// <c>canary-output</c> security event (docs/defenses.md, "Canaries"). Graph: Gather over a constant string tensor,
/// <c>customer_id</c> INT64 [batch] → <c>note</c> BYTES [batch].
/// </summary>
public static class CustomerNotesSample
{
    public const string Name = "customer-notes";

    public const string InputName = "customer_id";

    public const string OutputName = "note";

    /// <summary>The canary record's customer id (the last one; the policy admits ids 0..9).</summary>
    public const long CanaryCustomerId = 9;

    /// <summary>
    /// The canary value in the canary record: the local gateway's <c>ServerlessServe:Canaries:Tokens</c>. It is public
    /// (it is in this repository), so it only ever marks the sample: a deployment plants values of its own.
    /// </summary>
    public const string CanaryToken = "RK-7F3Q-MZ8W-K2XD-P9LT";

    /// <summary>The canary record's note: a secret worth stealing, carrying <see cref="CanaryToken"/>.</summary>
    public const string CanaryNote = "VIP account; vault recovery key " + CanaryToken + " held by the branch manager.";

    /// <summary>The ordinary notes, by customer id (0..8): every kind of personal data the redactor knows.</summary>
    public static IReadOnlyList<string> Notes { get; } =
    [
        "Prefers e-mail: jane.doe@example.com. Paperless statements since 2021.",
        "Card on file 4111 1111 1111 1111, expiry 12/30; autopay enabled.",
        "Refunds go to IBAN GB82 WEST 1234 5698 7654 32 at the customer's request.",
        "Identity checked with SSN 123-45-6789 during onboarding.",
        "Call back on +1 202-555-0143 after 5 pm.",
        "Last login from 192.0.2.44; no unusual activity.",
        "Support session opened from 2001:db8::17 on the mobile app.",
        "Contact john.roe@example.org or +44 20 7946 0958; backup card 5555-5555-5555-4444.",
        "Prefers branch visits; no digital contact details on file.",
    ];

    /// <summary>Every stored note, by customer id: <see cref="Notes"/>, then the canary note (<see cref="CanaryCustomerId"/>).</summary>
    public static IReadOnlyList<string> Rows { get; } = [.. Notes, CanaryNote];

    /// <summary>The model (same bytes on every run).</summary>
    public static byte[] BuildModel()
    {
        var graph = new GraphProto { Name = "customer_notes_lookup" };
        graph.Input.Add(OnnxBuild.Value(InputName, TensorProto.Types.DataType.Int64, [null]));
        graph.Output.Add(OnnxBuild.Value(OutputName, TensorProto.Types.DataType.String, [null]));
        graph.Initializer.Add(OnnxBuild.StringTensor("notes", Rows));
        graph.Node.Add(OnnxBuild.Node("Gather", "lookup", ["notes", InputName], [OutputName], OnnxBuild.IntAttribute("axis", 0)));
        return OnnxBuild.Model(graph, "Customer id to stored note; the notes contain fictitious personal data to show redaction.").ToByteArray();
    }
}
