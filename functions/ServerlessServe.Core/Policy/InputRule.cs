namespace ServerlessServe.Core.Policy;

/// <summary>Limits on one model input. Numeric bounds are inclusive; <see cref="MaxBytesLength"/> applies to BYTES elements.</summary>
public sealed record InputRule
{
    public double? Min { get; init; }

    public double? Max { get; init; }

    public int? MaxBytesLength { get; init; }
}
