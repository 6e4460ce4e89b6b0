using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Core.Defenses;

/// <summary>
/// The one refusal every defense in enforce mode gives: the same status (400) and words whichever defense flagged, so
/// a caller probing the screens learns only that the input was refused, not which screen or by how much.
/// </summary>
public static class DefenseRefusal
{
    public static Refusal Refused { get; } = Refusal.Invalid("the input was refused by the model's input screening");
}
