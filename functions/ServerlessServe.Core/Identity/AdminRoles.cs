namespace ServerlessServe.Core.Identity;

/// <summary>The app role of the admin plane (docs/identity.md, "The admin plane").</summary>
public static class AdminRoles
{
    /// <summary>
    /// Required on every admin route, in a token for the admin app's own audience. Never accepted on the data plane: the
    /// gateway refuses a token that carries it (403), whatever a model's policy names.
    /// </summary>
    public const string Admin = "Serving.Admin";
}
