using Microsoft.Extensions.Options;

namespace ServerlessServe.Core.Artifacts;

/// <summary>Source-generated validation of <see cref="ModelStoreOptions"/>, run at start.</summary>
[OptionsValidator]
public sealed partial class ModelStoreOptionsValidator : IValidateOptions<ModelStoreOptions>;

/// <summary>Source-generated validation of <see cref="ModelCatalogOptions"/>, run at start.</summary>
[OptionsValidator]
public sealed partial class ModelCatalogOptionsValidator : IValidateOptions<ModelCatalogOptions>;

/// <summary>Source-generated validation of <see cref="Lifecycle.ServingControlOptions"/>, run at start.</summary>
[OptionsValidator]
public sealed partial class ServingControlOptionsValidator : IValidateOptions<Lifecycle.ServingControlOptions>;
