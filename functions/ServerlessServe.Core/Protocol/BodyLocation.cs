using ServerlessServe.Core.Pipeline;
namespace ServerlessServe.Core.Protocol;

/// <summary>
/// Where in a V2 body an error was found, for safe error messages: <c>request</c>, <c>inputs[2]</c>,
/// <c>outputs[0]</c> (indices are 0-based, as in a JSON path). Never holds anything the caller sent.
/// </summary>
internal readonly record struct BodyLocation(string Collection, int Index)
{
    public static BodyLocation Request => new("request", -1);

    public static BodyLocation Response => new("response", -1);

    public static BodyLocation Input(int index) => new("inputs", index);

    public static BodyLocation Output(int index) => new("outputs", index);

    public RefusedException Error(string safeText) => RefusedException.Invalid($"{this}: {safeText}");

    public override string ToString() => Index < 0 ? Collection : $"{Collection}[{Index}]";
}
