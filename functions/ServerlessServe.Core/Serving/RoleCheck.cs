using ServerlessServe.Core.Identity;
using ServerlessServe.Core.Policy;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Serving;

/// <summary>
/// The model policy's <c>roles</c>: when it names any, the caller's token must carry at least one of them (403
/// otherwise). An empty list admits every authenticated caller.
/// </summary>
public static class RoleCheck
{
    public static void Ensure(CallerIdentity caller, ModelPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(policy);
        if (policy.Roles.Count > 0 && !policy.Roles.Any(required => caller.Roles.Contains(required, StringComparer.Ordinal)))
        {
            throw new ProtocolException(403, "the caller has no role this model admits");
        }
    }
}
