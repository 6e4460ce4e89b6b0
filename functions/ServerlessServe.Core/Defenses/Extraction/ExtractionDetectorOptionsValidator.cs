using Microsoft.Extensions.Options;

namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>Source-generated validation of <see cref="ExtractionDetectorOptions"/> (annotations and its cross-checks), run at start.</summary>
[OptionsValidator]
public sealed partial class ExtractionDetectorOptionsValidator : IValidateOptions<ExtractionDetectorOptions>;
