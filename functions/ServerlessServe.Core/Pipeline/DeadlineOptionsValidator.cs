using Microsoft.Extensions.Options;

namespace ServerlessServe.Core.Pipeline;

/// <summary>Source-generated validation of <see cref="DeadlineOptions"/> (its own rules), run at start.</summary>
[OptionsValidator]
public sealed partial class DeadlineOptionsValidator : IValidateOptions<DeadlineOptions>;
