using System.Text.Json;

namespace ServerlessServe.Core.Protocol;

/// <summary>
/// Parameters are closed by default: a request may carry only the binary tensor data extension's parameters
/// (<c>binary_data_output</c> on the request, <c>binary_data_size</c> on an input, <c>binary_data</c> on a
/// requested output). A response's top-level parameters are open (it comes from our own inference app).
/// </summary>
internal sealed partial class V2BodyReader
{
    private const int MaxOpenParameters = 64;

    private Dictionary<string, ParameterValue>? ReadRequestParameters(ref Utf8JsonReader reader)
    {
        if (!ReadClosedParameter(ref reader, _root, "binary_data_output"u8, out var value))
        {
            return null;
        }

        if (value.Kind != ParameterKind.Boolean)
        {
            throw _root.Error("parameter binary_data_output must be a boolean");
        }

        return new Dictionary<string, ParameterValue>(1, StringComparer.Ordinal) { [V2ParameterNames.BinaryDataOutput] = value };
    }

    private int? ReadBinaryDataSize(ref Utf8JsonReader reader, BodyLocation where)
    {
        if (!ReadClosedParameter(ref reader, where, "binary_data_size"u8, out var value))
        {
            return null;
        }

        if (!value.TryGetInt64(out var size) || size < 0 || size > int.MaxValue)
        {
            throw where.Error("parameter binary_data_size must be a non-negative integer");
        }

        return (int)size;
    }

    private bool? ReadBinaryDataFlag(ref Utf8JsonReader reader, BodyLocation where)
    {
        if (!ReadClosedParameter(ref reader, where, "binary_data"u8, out var value))
        {
            return null;
        }

        if (!value.TryGetBoolean(out var flag))
        {
            throw where.Error("parameter binary_data must be a boolean");
        }

        return flag;
    }

    /// <summary>Reads a parameters object that may hold only <paramref name="allowed"/>; false when it is empty.</summary>
    private bool ReadClosedParameter(ref Utf8JsonReader reader, BodyLocation where, ReadOnlySpan<byte> allowed, out ParameterValue value)
    {
        StartParameters(ref reader, where);
        value = default;
        var found = false;
        while (NextProperty(ref reader))
        {
            if (!reader.ValueTextEquals(allowed))
            {
                throw where.Error("unsupported parameter");
            }

            if (found)
            {
                throw where.Error("duplicate parameter");
            }

            found = true;
            value = ReadParameterValue(ref reader, where);
        }

        return found;
    }

    private Dictionary<string, ParameterValue> ReadOpenParameters(ref Utf8JsonReader reader, BodyLocation where)
    {
        StartParameters(ref reader, where);
        var parameters = new Dictionary<string, ParameterValue>(StringComparer.Ordinal);
        while (NextProperty(ref reader))
        {
            if (parameters.Count >= MaxOpenParameters)
            {
                throw where.Error($"more than {MaxOpenParameters} parameters");
            }

            var name = ReadCurrentString(ref reader, _limits.MaxNameLength, where, "parameter name");
            if (name.Length == 0)
            {
                throw where.Error("parameter name must not be empty");
            }

            if (!parameters.TryAdd(name, ReadParameterValue(ref reader, where)))
            {
                throw where.Error("duplicate parameter");
            }
        }

        return parameters;
    }

    private void StartParameters(ref Utf8JsonReader reader, BodyLocation where)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw where.Error("parameters must be an object");
        }

        CheckDepth(ref reader);
    }

    private ParameterValue ReadParameterValue(ref Utf8JsonReader reader, BodyLocation where)
    {
        if (!reader.Read())
        {
            throw new JsonException();
        }

        switch (reader.TokenType)
        {
            case JsonTokenType.True or JsonTokenType.False:
                return ParameterValue.FromBoolean(reader.TokenType == JsonTokenType.True);
            case JsonTokenType.Number when reader.TryGetInt64(out var integer):
                return ParameterValue.FromInt64(integer);
            case JsonTokenType.Number when JsonElementParsers.TryGetDouble(ref reader, out var number) && double.IsFinite(number):
                return ParameterValue.FromDouble(number);
            case JsonTokenType.String:
                return ParameterValue.FromString(ReadCurrentString(ref reader, _limits.MaxIdLength, where, "parameter value"));
            default:
                throw where.Error("parameter values must be strings, finite numbers or booleans");
        }
    }

    /// <summary>The current string or property name token, decoded, at most <paramref name="maxLength"/> characters.</summary>
    private static string ReadCurrentString(ref Utf8JsonReader reader, int maxLength, BodyLocation where, string what)
    {
        string? value = null;
        if (reader.ValueSpan.Length <= maxLength * 6L)
        {
            try
            {
                value = reader.GetString();
            }
            catch (InvalidOperationException)
            {
                throw where.Error($"{what} is not valid UTF-8");
            }
        }

        if (value is null || value.Length > maxLength)
        {
            throw where.Error($"{what} is longer than {maxLength} characters");
        }

        return value;
    }
}
