namespace ServerlessServe.Core.Defenses;

/// <summary>What a defense does with an input it flags.</summary>
public enum DefenseMode
{
    /// <summary>Record only: the request goes on, and its audit record carries the score and the flag.</summary>
    Shadow,

    /// <summary>Refuse the request (the same 400 and message for every defense), and record why.</summary>
    Enforce,
}
