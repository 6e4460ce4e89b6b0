namespace ServerlessServe.Core.Protocol;

/// <summary>The outcome of reading one tensor element from JSON.</summary>
internal enum ElementStatus
{
    Ok,

    /// <summary>The JSON token has the wrong type (a string for a number, a number for BOOL, ...).</summary>
    WrongType,

    /// <summary>A number that the datatype cannot hold exactly (300 for UINT8, 1.5 for INT32, 1e39 for FP32).</summary>
    OutOfRange,

    /// <summary>A BYTES element longer than <see cref="ProtocolLimits.MaxBytesElementLength"/>.</summary>
    TooLong,
}
