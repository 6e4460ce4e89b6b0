using Microsoft.Extensions.Options;

namespace ServerlessServe.Core.Audit;

/// <summary>Source-generated validation of <see cref="AuditOptions"/> (annotations and its own rules), run at start.</summary>
[OptionsValidator]
public sealed partial class AuditOptionsValidator : IValidateOptions<AuditOptions>;
