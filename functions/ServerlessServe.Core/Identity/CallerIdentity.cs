namespace ServerlessServe.Core.Identity;

/// <summary>An authenticated principal: the token subject and the roles it carries. The subject is never logged raw.</summary>
public sealed record CallerIdentity(string Subject, IReadOnlyList<string> Roles);
