using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Policy;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Validation;

/// <summary>
/// Checks a parsed request against the model's declared schema and policy before it reaches the model. Every failure
/// is an invalid <see cref="RefusedException"/> whose message names the DECLARED input (model metadata, public) or a
/// 0-based position, and never a value or a name the caller sent.
/// </summary>
public static class RequestValidator
{
    /// <summary>
    /// Validates <paramref name="request"/>: each declared input exactly once and nothing else; datatype, rank and fixed
    /// dimensions as declared (-1 is dynamic); a dynamic first (batch) dimension at most <see cref="ModelPolicy.MaxBatch"/>;
    /// requested outputs declared; floating-point inputs finite; numeric elements within the policy's inclusive
    /// <see cref="InputRule.Min"/>/<see cref="InputRule.Max"/>; BYTES elements at most <see cref="InputRule.MaxBytesLength"/>.
    /// </summary>
    public static ValidationSummary Validate(
        InferenceRequest request, IReadOnlyList<TensorSpec> inputs, IReadOnlyList<TensorSpec> outputs, ModelPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(policy);

        var matched = new Tensor?[inputs.Count];
        for (var i = 0; i < request.Inputs.Count; i++)
        {
            var tensor = request.Inputs[i];
            var index = IndexOf(inputs, tensor.Name);
            if (index < 0)
            {
                throw RefusedException.Invalid($"inputs[{i}]: not an input of this model");
            }

            if (matched[index] is not null)
            {
                throw RefusedException.Invalid($"inputs[{i}]: input '{inputs[index].Name}' is given more than once");
            }

            matched[index] = tensor;
        }

        long elements = 0;
        long batch = 0;
        for (var index = 0; index < inputs.Count; index++)
        {
            var spec = inputs[index];
            var tensor = matched[index] ?? throw RefusedException.Invalid($"input '{spec.Name}' is missing");
            CheckSchema(tensor, spec, policy);
            if (spec.Shape.Length > 0 && spec.Shape[0] < 0)
            {
                batch = Math.Max(batch, tensor.Shape[0]);
            }

            policy.Inputs.TryGetValue(spec.Name, out var rule);
            ElementChecks.Check(tensor, spec.Name, rule);
            elements += tensor.ElementCount;
        }

        if (request.Outputs is { } requested)
        {
            for (var i = 0; i < requested.Count; i++)
            {
                if (IndexOf(outputs, requested[i].Name) < 0)
                {
                    throw RefusedException.Invalid($"outputs[{i}]: not an output of this model");
                }
            }
        }

        return new ValidationSummary(request.Inputs.Count, elements, batch);
    }

    private static void CheckSchema(Tensor tensor, TensorSpec spec, ModelPolicy policy)
    {
        if (tensor.DataType != spec.DataType)
        {
            throw RefusedException.Invalid($"input '{spec.Name}': datatype must be {spec.DataType.ToWire()}");
        }

        if (tensor.Shape.Length != spec.Shape.Length)
        {
            throw RefusedException.Invalid($"input '{spec.Name}': shape must have {spec.Shape.Length} dimensions");
        }

        for (var d = 0; d < spec.Shape.Length; d++)
        {
            if (spec.Shape[d] >= 0 && tensor.Shape[d] != spec.Shape[d])
            {
                throw RefusedException.Invalid($"input '{spec.Name}': dimension {d} must be {spec.Shape[d]}");
            }
        }

        if (spec.Shape.Length > 0 && spec.Shape[0] < 0 && tensor.Shape[0] > policy.MaxBatch)
        {
            throw RefusedException.Invalid($"input '{spec.Name}': batch size exceeds the model's limit of {policy.MaxBatch}");
        }

        if (Tensor.ShapeElementCount(tensor.Shape) != tensor.ElementCount)
        {
            throw RefusedException.Invalid($"input '{spec.Name}': data does not match shape");
        }
    }

    private static int IndexOf(IReadOnlyList<TensorSpec> specs, string name)
    {
        for (var i = 0; i < specs.Count; i++)
        {
            if (string.Equals(specs[i].Name, name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}
