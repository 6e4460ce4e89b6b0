using Microsoft.Extensions.Options;

namespace ServerlessServe.Onnx;

/// <summary>Source-generated validation of <see cref="InferenceOptions"/>, run at start.</summary>
[OptionsValidator]
internal sealed partial class InferenceOptionsValidator : IValidateOptions<InferenceOptions>;
