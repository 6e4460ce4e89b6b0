using System.Globalization;

namespace ServerlessServe.Core.Protocol;

/// <summary>
/// One V2 parameter value: a string, an integer (<see cref="long"/>), a floating-point number or a boolean.
/// Integers that fit in <see cref="long"/> are kept as <see cref="ParameterKind.Int64"/>; other numbers as doubles.
/// </summary>
public readonly record struct ParameterValue
{
    private readonly string? _string;
    private readonly long _int64;
    private readonly double _double;

    private ParameterValue(ParameterKind kind, string? s, long l, double d)
    {
        Kind = kind;
        _string = s;
        _int64 = l;
        _double = d;
    }

    public ParameterKind Kind { get; }

    public static ParameterValue FromString(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new(ParameterKind.String, value, 0, 0);
    }

    public static ParameterValue FromInt64(long value) => new(ParameterKind.Int64, null, value, value);

    /// <summary>A floating-point value; must be finite, since JSON cannot carry NaN or infinities.</summary>
    public static ParameterValue FromDouble(double value)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(nameof(value), "Parameter values must be finite.");
        }

        return new(ParameterKind.Double, null, 0, value);
    }

    public static ParameterValue FromBoolean(bool value) => new(ParameterKind.Boolean, null, value ? 1 : 0, 0);

    public bool TryGetString(out string value)
    {
        value = _string ?? string.Empty;
        return Kind == ParameterKind.String;
    }

    public bool TryGetInt64(out long value)
    {
        value = _int64;
        return Kind == ParameterKind.Int64;
    }

    /// <summary>The numeric value of an <see cref="ParameterKind.Int64"/> or <see cref="ParameterKind.Double"/> parameter.</summary>
    public bool TryGetDouble(out double value)
    {
        value = _double;
        return Kind is ParameterKind.Double or ParameterKind.Int64;
    }

    public bool TryGetBoolean(out bool value)
    {
        value = _int64 != 0;
        return Kind == ParameterKind.Boolean;
    }

    public override string ToString() => Kind switch
    {
        ParameterKind.String => _string ?? string.Empty,
        ParameterKind.Int64 => _int64.ToString(CultureInfo.InvariantCulture),
        ParameterKind.Double => _double.ToString("R", CultureInfo.InvariantCulture),
        _ => _int64 != 0 ? "true" : "false",
    };
}
