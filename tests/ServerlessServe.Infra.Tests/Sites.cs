using ServerlessServe.Infra.Tests.Arm;

namespace ServerlessServe.Infra.Tests;

/// <summary>The Function Apps of the template, told apart by their <c>azd-service-name</c> tag (gateway, admin).</summary>
internal static class Sites
{
    public static bool IsApp(DeployedResource resource, string service) =>
        resource.IsType("Microsoft.Web/sites") && resource.Body.Get("tags").Prop("azd-service-name").IsString(service);

    public static bool IsGateway(DeployedResource resource) => IsApp(resource, "gateway");

    public static bool IsAdmin(DeployedResource resource) => IsApp(resource, "admin");
}
