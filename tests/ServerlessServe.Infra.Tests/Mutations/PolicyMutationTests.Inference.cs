using System.Text.Json.Nodes;
using ServerlessServe.Infra.Tests.Policy;
using static ServerlessServe.Infra.Tests.TemplateMutation;

namespace ServerlessServe.Infra.Tests.Mutations;

public sealed partial class PolicyMutationTests
{
    private const string InferenceApp = "Microsoft.App/containerApps";
    private const string IngressRules = "properties.configuration.ingress.ipSecurityRestrictions";

    private static IEnumerable<TemplateMutation> InferenceCases =>
    [
        // The form the template had before: "internal" ingress, which in Container Apps admits only the environment's own apps.
        new("inference ingress not external: the gateway is not in its environment", SecurityPolicy.InferenceReachableFromGateway.Id, "ca-inference-",
            t => Set(Resource(t, "inference", InferenceApp), "properties.configuration.ingress.external", false)),
        new("inference ingress admits the apps subnet, not the gateway's", SecurityPolicy.InferenceReachableFromGateway.Id, "ca-inference-",
            t => Set(Resource(t, "inference", InferenceApp), IngressRules, "[if(parameters('vnetEnabled'), createArray(createObject('name', 'apps', 'ipAddressRange', '10.40.2.0/23', 'action', 'Allow')), createArray())]")),
        new("gateway given a public inference URL", SecurityPolicy.InferenceReachableFromGateway.Id, "func-gateway-",
            t => Set(Resource(t, "", "Microsoft.Resources/deployments", "gateway"), "properties.parameters.inferenceBaseUrl.value", "https://inference.example.com/api")),
        new("environment domain zone not linked to the VNet", SecurityPolicy.InferenceReachableFromGateway.Id, "defaultDomain",
            t => Set(Resource(t, "inference/dns-", "Microsoft.Network/privateDnsZones/virtualNetworkLinks"), "properties.virtualNetwork.id", "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/elsewhere/providers/Microsoft.Network/virtualNetworks/other")),
        new("environment domain without its wildcard record", SecurityPolicy.InferenceReachableFromGateway.Id, "defaultDomain",
            t => Set(Resource(t, "inference/dns-", "Microsoft.Network/privateDnsZones/A"), "name", "[format('{0}/{1}', parameters('defaultDomain'), 'www')]")),
        new("inference environment with a public load balancer", SecurityPolicy.InferenceIngressVnetOnly.Id, "cae-",
            t => Set(Resource(t, "inference", "Microsoft.App/managedEnvironments"), "properties.vnetConfiguration", "[if(parameters('vnetEnabled'), createObject('internal', false(), 'infrastructureSubnetId', parameters('subnetId')), null())]")),
        new("inference ingress open to the whole VNet", SecurityPolicy.InferenceIngressVnetOnly.Id, "ca-inference-",
            t => Set(Resource(t, "inference", InferenceApp), IngressRules, new JsonArray())),
        new("inference ingress admits the Internet", SecurityPolicy.InferenceIngressVnetOnly.Id, "ca-inference-",
            t => Set(Resource(t, "inference", InferenceApp), IngressRules, "[if(parameters('vnetEnabled'), createArray(createObject('name', 'any', 'ipAddressRange', '0.0.0.0/0', 'action', 'Allow')), createArray())]")),
        new("inference host without host storage", SecurityPolicy.FunctionHostStorageIdentityBased.Id, "ca-inference-",
            t => Remove(Resource(t, "inference", InferenceApp), $"properties.template.containers[0].env[{EnvIndex(t, "AzureWebJobsStorage__blobServiceUri")}]")),
        new("inference host without storage for its keys", SecurityPolicy.FunctionHostStorageIdentityBased.Id, "ca-inference-",
            t => Remove(Resource(t, "inference", InferenceApp), $"properties.template.containers[0].env[{EnvIndex(t, "AzureWebJobsSecretStorageType")}]")),
        // The form the template had before: a T4's size whatever the profile.
        new("A100 profile with a T4's size", SecurityPolicy.InferenceResourcesFitProfile.Id, "ca-inference-",
            t => Set(Module(t, "inference"), "variables.containerResources", "[if(parameters('gpuEnabled'), createObject('cpu', json('8.0'), 'memory', '56Gi'), createObject('cpu', json('2.0'), 'memory', '4Gi'))]"),
            Parameters: new Dictionary<string, JsonNode?> { ["gpuWorkloadProfileType"] = "Consumption-GPU-NC24-A100" }),
        new("CPU replica larger than Consumption gives", SecurityPolicy.InferenceResourcesFitProfile.Id, "ca-inference-",
            t => Set(Module(t, "inference"), "variables.containerResources", "[if(parameters('gpuEnabled'), variables('gpuProfileSizes')[parameters('gpuWorkloadProfileType')], createObject('cpu', json('8.0'), 'memory', '16Gi'))]"),
            Parameters: new Dictionary<string, JsonNode?> { ["gpuEnabled"] = false }),
        new("publish job in an environment outside the VNet", SecurityPolicy.PublishJobInsideVnet.Id, "caj-publish-",
            t => Set(Resource(t, "", "Microsoft.Resources/deployments", "publishJob"), "properties.parameters.environmentId.value", "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/elsewhere/providers/Microsoft.App/managedEnvironments/public")),
        new("publish job on a schedule", SecurityPolicy.PublishJobInsideVnet.Id, "caj-publish-",
            t => Set(Resource(t, "publishJob", "Microsoft.App/jobs"), "properties.configuration.triggerType", "Schedule")),
    ];

    private static int EnvIndex(JsonObject template, string name) =>
        Navigate(Resource(template, "inference", InferenceApp), "properties.template.containers[0].env").AsArray()
            .Select((e, i) => (e, i)).Single(x => x.e!["name"]!.GetValue<string>() == name).i;
}
