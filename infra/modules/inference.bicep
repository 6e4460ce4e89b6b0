// The inference Function App, hosted natively on Azure Container Apps (`kind: functionapp`), in an
// environment that (with the VNet) is internal only: no public IP. In an internal environment an ingress
// marked `external` is reachable from the VNet (through the environment's internal load balancer), while a
// non-external one is reachable only from apps in the same environment, which the Flex Consumption gateway is
// not. So the ingress is external, restricted to the gateway's subnet by IP rules, and the environment's
// domain resolves inside the VNet through a private DNS zone. The app runs on a serverless GPU workload
// profile, or on the Consumption (CPU) profile where GPUs are not offered.
// It holds no secret: it accepts only Entra ID tokens of the gateway's managed identity for its own audience (checked
// against the tenant's published keys) and models signed by a key whose public half it is given.

param environmentName string
param appName string
param location string
param tags object

param identityId string
param identityClientId string

param vnetEnabled bool
param subnetId string = ''
param vnetId string = ''

@description('Address prefix of the gateway\'s VNet integration subnet: with the VNet, the only source the ingress accepts.')
param gatewaySubnetPrefix string = ''

@description('Host storage of the Functions host (identity-based, on the runtime account): its blob, queue and table endpoints.')
param runtimeBlobEndpoint string
param runtimeQueueEndpoint string
param runtimeTableEndpoint string

param logAnalyticsId string
param applicationInsightsConnectionString string

param registryLoginServer string

@description('Image to run; empty on the first provision, before azd has pushed one.')
param imageName string

param gpuEnabled bool
param gpuWorkloadProfileName string
@allowed(['Consumption-GPU-NC8as-T4', 'Consumption-GPU-NC24-A100'])
param gpuWorkloadProfileType string

param dataBlobEndpoint string
param modelsContainerName string

@description('PEM public key of the model signer; empty trusts no model.')
param modelSignerPublicKeyPem string

@description('OIDC authority whose metadata and keys check the gateway\'s tokens: this tenant\'s Entra ID v2 endpoint.')
param serviceAuthority string

@description('Accepted `iss` of the gateway\'s tokens: the tenant\'s v1 and v2 issuers (two entries).')
param serviceIssuers array

@description('The inference API\'s application id URI: the `aud` of v1 tokens, the resource the gateway asks for. Empty: the app refuses to start.')
param serviceAudience string

@description('The inference API\'s client id, the `aud` of v2 tokens; empty accepts the application id URI only.')
param serviceClientId string

@description('Client id of the gateway\'s managed identity (the token\'s appid/azp).')
param gatewayIdentityClientId string

@description('Principal (object) id of the gateway\'s managed identity (the token\'s oid).')
param gatewayIdentityPrincipalId string

@minValue(0)
@maxValue(10)
param minReplicas int = 0

@minValue(1)
@maxValue(100)
param maxReplicas int = 4

@description('Largest request body a caller may send the gateway, in bytes. The gateway forwards every request in the binary encoding, up to 8 bytes an element (an FP64 "0," is 2 bytes of JSON), so this app takes what the gateway\'s element cap allows (forwardedBodyBytes): its own limit and the Functions host\'s (FUNCTIONS_REQUEST_BODY_SIZE_LIMIT).')
param maxRequestBodyBytes int = 16777216

// The gateway's element cap (ServerlessServe:Protocol:MaxElementsPerRequest, 4 Mi by default) at 8 bytes each, plus
// the caller's body limit for BYTES content, plus 1 MiB of JSON header (ProtocolLimits.BinaryBodyLimit): with the
// caller's body limit alone, a valid 8 MiB JSON request of FP32 zeros was forwarded as 16 MiB and change and answered
// 413 in Azure only (found in review 2026-12-07); without the BYTES content, one with 7 MiB of strings beside 4 Mi
// INT64 zeros (review 2026-12-08).
var forwardedBodyBytes = min(2147483647, (4194304 * 8) + maxRequestBodyBytes + 1048576)

// The Consumption profile exists in every workload-profiles environment; GPU profiles are added.
var consumptionProfile = {
  name: 'Consumption'
  workloadProfileType: 'Consumption'
}
var gpuProfile = {
  name: gpuWorkloadProfileName
  workloadProfileType: gpuWorkloadProfileType
}
// What one replica gets on each serverless GPU profile (the whole GPU and the node's cores and memory), and a
// small CPU replica on the Consumption profile.
var gpuProfileSizes = {
  'Consumption-GPU-NC8as-T4': { cpu: json('8.0'), memory: '56Gi' }
  'Consumption-GPU-NC24-A100': { cpu: json('24.0'), memory: '220Gi' }
}
var containerResources = gpuEnabled ? gpuProfileSizes[gpuWorkloadProfileType] : { cpu: json('2.0'), memory: '4Gi' }
// Public quickstart image used only until `azd deploy` pushes the real one.
var placeholderImage = 'mcr.microsoft.com/azure-functions/dotnet8-quickstart-demo:1.0'

resource environment 'Microsoft.App/managedEnvironments@2025-07-01' = {
  name: environmentName
  location: location
  tags: tags
  properties: {
    vnetConfiguration: vnetEnabled
      ? {
          internal: true
          infrastructureSubnetId: subnetId
        }
      : null
    workloadProfiles: gpuEnabled ? [consumptionProfile, gpuProfile] : [consumptionProfile]
    // Logs go through diagnostic settings (Entra), not the workspace's shared key.
    appLogsConfiguration: {
      destination: 'azure-monitor'
    }
    publicNetworkAccess: vnetEnabled ? 'Disabled' : 'Enabled'
    zoneRedundant: false
  }
}

resource environmentLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'logs-to-workspace'
  scope: environment
  properties: {
    workspaceId: logAnalyticsId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
  }
}

// Internal environments publish no public DNS: resolve the environment's domain inside the VNet.
module environmentDns 'container-apps-dns.bicep' = if (vnetEnabled) {
  name: 'dns-${environmentName}'
  params: {
    // The zone must be named after the domain Azure assigns at creation; what-if cannot predict it.
    #disable-next-line what-if-short-circuiting
    defaultDomain: environment.properties.defaultDomain
    staticIp: environment.properties.staticIp
    vnetId: vnetId
    tags: tags
  }
}

resource app 'Microsoft.App/containerApps@2025-07-01' = {
  name: appName
  location: location
  tags: union(tags, { 'azd-service-name': 'inference' })
  kind: 'functionapp'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    managedEnvironmentId: environment.id
    workloadProfileName: gpuEnabled ? gpuWorkloadProfileName : consumptionProfile.name
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        // With the VNet: reachable from the VNet only (the environment is internal), and of the VNet only from
        // the gateway's subnet. Without it the gateway reaches the app over its public FQDN from addresses it
        // does not own, so no IP rule can name it; the app then relies on its own Entra token validation alone
        // (a development setting, see docs/deploy.md).
        external: true
        // Our image runs unprivileged, so it listens on 8080 (functions/ServerlessServe.Inference/Dockerfile); the
        // placeholder of the first provision is told to listen there too (ASPNETCORE_URLS below). The port must not
        // depend on the image: azd's deploy changes only the image of the app, never its ingress, so a first
        // `azd up` left the ingress on the placeholder's port 80 and our app unreachable on 8080 until the next
        // provision (found in review 2026-12-07).
        targetPort: 8080
        transport: 'auto'
        allowInsecure: false
        ipSecurityRestrictions: vnetEnabled
          ? [
              {
                name: 'gateway-subnet'
                description: 'The gateway\'s VNet integration subnet: its only caller.'
                ipAddressRange: gatewaySubnetPrefix
                action: 'Allow'
              }
            ]
          : []
      }
      registries: [
        {
          server: registryLoginServer
          identity: identityId
        }
      ]
    }
    template: {
      containers: [
        {
          name: 'inference'
          image: empty(imageName) ? placeholderImage : imageName
          resources: containerResources
          env: [
            // The Functions host in front of the app (docs/design.md, "Two hosts"). Its storage (host locks) is the
            // runtime account, reached with the app's identity, which may write only the host's lock container.
            // Host keys stay in each replica's file system: every function is anonymous at the host (the app checks
            // Entra tokens itself), so no key is ever used, and none is written where another identity could read it.
            { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
            { name: 'AzureWebJobsStorage__clientId', value: identityClientId }
            { name: 'AzureWebJobsStorage__blobServiceUri', value: runtimeBlobEndpoint }
            { name: 'AzureWebJobsStorage__queueServiceUri', value: runtimeQueueEndpoint }
            { name: 'AzureWebJobsStorage__tableServiceUri', value: runtimeTableEndpoint }
            { name: 'AzureWebJobsSecretStorageType', value: 'files' }
            { name: 'AzureWebJobsDisableHomepage', value: 'true' }
            // Where the Functions host listens, the placeholder's included (its image says port 80); ours says 8080 too.
            { name: 'ASPNETCORE_URLS', value: 'http://+:8080' }
            { name: 'FUNCTIONS_REQUEST_BODY_SIZE_LIMIT', value: string(forwardedBodyBytes) }
            // The caller's limit, as the gateway's: the app derives what the gateway forwards from it (ProtocolLimits.BinaryBodyLimit,
            // the same sum as forwardedBodyBytes). Set to the derived figure, it was raised a second time (review 2026-12-08).
            { name: 'ServerlessServe__Protocol__MaxBodyBytes', value: string(maxRequestBodyBytes) }
            { name: 'AZURE_CLIENT_ID', value: identityClientId }
            { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: applicationInsightsConnectionString }
            { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD;ClientId=${identityClientId}' }
            { name: 'ServerlessServe__Storage__BlobServiceUri', value: dataBlobEndpoint }
            { name: 'ServerlessServe__Models__Container', value: modelsContainerName }
            { name: 'ServerlessServe__Models__TrustedSignerPems__0', value: modelSignerPublicKeyPem }
            // Only the gateway's managed identity, for this app's own audience (docs/identity.md, "Services").
            { name: 'ServerlessServe__ServiceAuth__Authority', value: serviceAuthority }
            { name: 'ServerlessServe__ServiceAuth__Issuers__0', value: serviceIssuers[0] }
            { name: 'ServerlessServe__ServiceAuth__Issuers__1', value: serviceIssuers[1] }
            { name: 'ServerlessServe__ServiceAuth__Audiences__0', value: serviceAudience }
            { name: 'ServerlessServe__ServiceAuth__Audiences__1', value: empty(serviceClientId) ? serviceAudience : serviceClientId }
            { name: 'ServerlessServe__ServiceAuth__AllowedIdentities__0', value: gatewayIdentityClientId }
            { name: 'ServerlessServe__ServiceAuth__AllowedIdentities__1', value: gatewayIdentityPrincipalId }
            { name: 'ServerlessServe__Inference__ExecutionProvider', value: gpuEnabled ? 'Cuda' : 'Cpu' }
          ]
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
      }
    }
  }
}

output environmentName string = environment.name
output environmentId string = environment.id
output appName string = app.name
output fqdn string = app.properties.configuration.ingress.fqdn
