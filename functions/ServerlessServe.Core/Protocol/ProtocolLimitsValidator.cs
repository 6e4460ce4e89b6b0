using Microsoft.Extensions.Options;

namespace ServerlessServe.Core.Protocol;

/// <summary>Source-generated validation of <see cref="ProtocolLimits"/> (its data annotations), run at start.</summary>
[OptionsValidator]
public sealed partial class ProtocolLimitsValidator : IValidateOptions<ProtocolLimits>;
