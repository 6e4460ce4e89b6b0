using Microsoft.Extensions.Options;

namespace ServerlessServe.Hosting.Options;

// Source-generated validators (data annotations, IValidatableObject), checked at start by ValidateOnStart.

[OptionsValidator]
internal sealed partial class CanaryOptionsValidator : IValidateOptions<CanaryOptions>;

[OptionsValidator]
internal sealed partial class CallerAuthOptionsValidator : IValidateOptions<CallerAuthOptions>;

[OptionsValidator]
internal sealed partial class ContainmentOptionsValidator : IValidateOptions<ServerlessServe.Core.Security.ContainmentOptions>;

[OptionsValidator]
internal sealed partial class LimitOptionsValidator : IValidateOptions<ServerlessServe.Core.Serving.Limits.LimitOptions>;

[OptionsValidator]
internal sealed partial class EgressOptionsValidator : IValidateOptions<EgressOptions>;

[OptionsValidator]
internal sealed partial class GatewayOptionsValidator : IValidateOptions<GatewayOptions>;

[OptionsValidator]
internal sealed partial class ServiceAuthOptionsValidator : IValidateOptions<ServiceAuthOptions>;

[OptionsValidator]
internal sealed partial class ServiceTokenOptionsValidator : IValidateOptions<ServiceTokenOptions>;

[OptionsValidator]
internal sealed partial class StorageOptionsValidator : IValidateOptions<StorageOptions>;

[OptionsValidator]
internal sealed partial class SignatureOptionsValidator : IValidateOptions<ServerlessServe.Core.Signatures.SignatureOptions>;

[OptionsValidator]
internal sealed partial class AdminOptionsValidator : IValidateOptions<AdminOptions>;

[OptionsValidator]
internal sealed partial class RedactionOptionsValidator : IValidateOptions<ServerlessServe.Core.Redaction.RedactionOptions>;

/// <summary>Source-generated validation of <see cref="Http.EdgeOptions"/> (its data annotations), run at start.</summary>
[OptionsValidator]
internal sealed partial class EdgeOptionsValidator : IValidateOptions<Http.EdgeOptions>;
