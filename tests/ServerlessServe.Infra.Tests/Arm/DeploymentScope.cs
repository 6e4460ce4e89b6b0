namespace ServerlessServe.Infra.Tests.Arm;

/// <summary>Where a (nested) template deploys: decides how <c>resourceId()</c> renders.</summary>
public enum DeploymentScope
{
    Subscription,
    ResourceGroup,
}
