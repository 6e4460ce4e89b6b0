using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Policy;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Serving;

/// <summary>
/// V2 model metadata as callers see it: the inputs as declared, and the outputs as the policy releases them
/// (top-k adds <c>{name}_classes</c>; label mode returns one label per row).
/// </summary>
public static class ReleasedMetadata
{
    public static ModelMetadata For(VerifiedModelVersion model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new ModelMetadata
        {
            Name = model.Manifest.Name,
            Versions = [model.Manifest.Version],
            Platform = model.Manifest.Platform,
            Inputs = model.Manifest.Inputs,
            Outputs = model.Manifest.Outputs.SelectMany(o => Released(o, model.Policy)).ToList(),
        };
    }

    /// <summary>
    /// The model output a released tensor comes from: <paramref name="releasedName"/> itself when the model declares it,
    /// otherwise the declared output whose released tensors include it (top-k's <c>{name}_classes</c>). Unknown names
    /// are returned as they are (validation has refused them already).
    /// </summary>
    public static string SourceOutput(VerifiedModelVersion model, string releasedName)
    {
        ArgumentNullException.ThrowIfNull(model);
        foreach (var output in model.Manifest.Outputs)
        {
            if (string.Equals(output.Name, releasedName, StringComparison.Ordinal)
                || Released(output, model.Policy).Any(t => string.Equals(t.Name, releasedName, StringComparison.Ordinal)))
            {
                return output.Name;
            }
        }

        return releasedName;
    }

    /// <summary>The tensors released for one declared output under <paramref name="policy"/>.</summary>
    public static IEnumerable<TensorSpec> Released(TensorSpec output, ModelPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(policy);
        if (!policy.Outputs.TryGetValue(output.Name, out var rule) || !output.DataType.IsFloatingPoint())
        {
            yield return output;
            yield break;
        }

        var rows = output.Shape.Length > 1 ? output.Shape[..^1] : [];
        var classType = rule.Labels is { Count: > 0 } ? TensorDataType.Bytes : TensorDataType.Int64;
        switch (rule.Mode)
        {
            case OutputMode.TopK:
                var k = (long)(rule.K ?? 1);
                yield return output with { Shape = [.. rows, k] };
                yield return new TensorSpec(output.Name + "_classes", classType, [.. rows, k]);
                break;
            case OutputMode.Label:
                yield return new TensorSpec(output.Name, classType, rows.Length == 0 ? [1] : rows);
                break;
            default:
                yield return output;
                break;
        }
    }
}
