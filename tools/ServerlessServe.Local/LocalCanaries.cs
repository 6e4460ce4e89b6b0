using ServerlessServe.Local.Samples;

namespace ServerlessServe.Local;

/// <summary>
/// The local stack's tripwires (<c>ServerlessServe:Canaries</c> of the gateway that <c>ssctl up</c> and the
/// integration tests start): the customer-notes sample's canary value, a honey model and a honey token subject. These
/// values are in the repository, so they only ever mark the local samples; a deployment chooses its own.
/// </summary>
public static class LocalCanaries
{
    /// <summary>A model name served nowhere: any request for it raises a <c>honey-model</c> event.</summary>
    public const string HoneyModel = "payroll-model";

    /// <summary>A token subject never issued: a valid token carrying it raises a <c>honey-caller</c> event.</summary>
    public const string HoneySubject = "break-glass-admin";

    /// <summary>The canary value of the customer-notes sample's canary record (<see cref="CustomerNotesSample.CanaryCustomerId"/>).</summary>
    public const string Token = CustomerNotesSample.CanaryToken;

    /// <summary>The gateway settings that configure them.</summary>
    public static IReadOnlyDictionary<string, string> GatewaySettings { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["ServerlessServe:Canaries:Tokens:0"] = Token,
        ["ServerlessServe:Canaries:HoneyModels:0"] = HoneyModel,
        ["ServerlessServe:Canaries:HoneySubjects:0"] = HoneySubject,
    };
}
