using Microsoft.Extensions.Options;

namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>Source-generated validation of <see cref="ExtractionStoreOptions"/>, run at start.</summary>
[OptionsValidator]
public sealed partial class ExtractionStoreOptionsValidator : IValidateOptions<ExtractionStoreOptions>;
