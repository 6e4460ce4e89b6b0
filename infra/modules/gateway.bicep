// The gateway Function App on Flex Consumption (FC1): .NET isolated worker, user-assigned identity
// for everything (storage, Key Vault references, telemetry) but the audit witness account, which only the witness
// identity it also carries can write; VNet integration with all outbound
// traffic through the VNet, HTTPS only, FTP and basic publishing credentials off. Its app settings
// hold no secret: private keys are Key Vault references resolved with the identity; the model signer's
// PEM public key is a plain setting. Its tokens for the inference app come from the same identity (AZURE_CLIENT_ID).

param name string
param planName string
param location string
param tags object

param identityId string
param identityClientId string

param vnetEnabled bool
param subnetId string = ''

param runtimeBlobEndpoint string
param runtimeQueueEndpoint string
param runtimeTableEndpoint string
param deploymentContainerName string

param dataBlobEndpoint string
param modelsContainerName string
param auditContainerName string

@description('Resource ID of the audit witness identity: carried beside the app\'s own, used for the witness account only.')
param witnessIdentityId string

@description('Client id of the audit witness identity (ServerlessServe__Audit__Witness__ManagedIdentityClientId).')
param witnessIdentityClientId string

@description('Blob endpoint of the audit witness account.')
param witnessBlobEndpoint string

@description('Container of witness heads in the witness account.')
param witnessContainerName string

@description('Durable task hub name; the same as extensions.durableTask.hubName in host.json.')
param jobsTaskHubName string

@description('Container in the data account holding the claim-check payloads of durable jobs.')
param jobPayloadsContainerName string

@description('Days job results and payloads are kept (the payload container\'s lifecycle rule uses the same number).')
@minValue(1)
@maxValue(365)
param jobRetentionDays int

param applicationInsightsConnectionString string

@description('Log Analytics workspace receiving the Functions host\'s logs (FunctionAppLogs).')
param logAnalyticsId string
param keyVaultUri string

@description('Key Vault secret names, keyed by role: auditPseudonymKey, auditCheckpointKey, auditWitnessKey.')
param secretNames object

@description('Base URL of the inference app including its route prefix: https://<internal fqdn>/api.')
param inferenceBaseUrl string

@description('OIDC authority (issuer URL) of caller tokens, e.g. https://login.microsoftonline.com/{tenant}/v2.0; its host is on the egress allow-list.')
param identityAuthority string

@description('Accepted `aud` of caller tokens: the app registration\'s client id or application id URI. Empty: the gateway refuses to start.')
param identityAudience string

@description('The admin app\'s audience: admin tokens are genuine tokens of this deployment, so the gateway audits them and refuses them 403 on every route. Empty: they get the 401 of any other audience.')
param identitySiblingAudience string = ''

@description('The inference API\'s application id URI: the resource the gateway\'s managed identity asks tokens for. Empty: the gateway refuses to start.')
param inferenceAudience string

@description('Public origin callers send requests to (https://host[:port]): what signed requests are checked against as @target-uri, since behind the Functions front end the app does not see the caller\'s scheme.')
param publicBaseUrl string

@description('PEM public key of the model signer; empty trusts no model.')
param modelSignerPublicKeyPem string

@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Largest request body in bytes: the app\'s own limit and the Functions host\'s (FUNCTIONS_REQUEST_BODY_SIZE_LIMIT), so the host never buffers more than the app would accept.')
param maxRequestBodyBytes int = 16777216

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

// Versionless Key Vault references: the app follows the latest secret version (within 24 hours, or at
// once on restart).
var secretUri = '${keyVaultUri}secrets/'

var appSettings = [
  // Functions host storage and the durable task hub: identity-based, no connection string.
  { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
  { name: 'AzureWebJobsStorage__clientId', value: identityClientId }
  { name: 'AzureWebJobsStorage__blobServiceUri', value: runtimeBlobEndpoint }
  { name: 'AzureWebJobsStorage__queueServiceUri', value: runtimeQueueEndpoint }
  { name: 'AzureWebJobsStorage__tableServiceUri', value: runtimeTableEndpoint }
  // The Functions host in front of the app: no landing page at /, and a body over the app's own limit refused
  // before the worker sees it (docs/design.md, "Two hosts").
  { name: 'AzureWebJobsDisableHomepage', value: 'true' }
  { name: 'FUNCTIONS_REQUEST_BODY_SIZE_LIMIT', value: string(maxRequestBodyBytes) }
  { name: 'ServerlessServe__Protocol__MaxBodyBytes', value: string(maxRequestBodyBytes) }
  // Request bodies held at once: half the instance's memory, one caller a quarter of that (docs/protocol.md, "Bodies
  // in memory").
  { name: 'ServerlessServe__Limits__BodyBytesInFlight', value: string(instanceMemoryMB * 524288) }
  { name: 'ServerlessServe__Limits__CallerBodyBytesInFlight', value: string(instanceMemoryMB * 131072) }
  { name: 'AZURE_CLIENT_ID', value: identityClientId }
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: applicationInsightsConnectionString }
  { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD;ClientId=${identityClientId}' }
  { name: 'ServerlessServe__Storage__BlobServiceUri', value: dataBlobEndpoint }
  { name: 'ServerlessServe__Models__Container', value: modelsContainerName }
  { name: 'ServerlessServe__Models__TrustedSignerPems__0', value: modelSignerPublicKeyPem }
  { name: 'ServerlessServe__Audit__Container', value: auditContainerName }
  { name: 'ServerlessServe__Gateway__InferenceBaseUrl', value: inferenceBaseUrl }
  // Durable jobs: the task hub (on AzureWebJobsStorage above), the claim-check container (on the data
  // account, ServerlessServe__Storage__BlobServiceUri) and how long results are kept, as a TimeSpan.
  { name: 'ServerlessServe__Jobs__TaskHub', value: jobsTaskHubName }
  { name: 'ServerlessServe__Jobs__PayloadContainer', value: jobPayloadsContainerName }
  { name: 'ServerlessServe__Jobs__ResultRetention', value: '${jobRetentionDays}.00:00:00' }
  { name: 'ServerlessServe__Jobs__PurgeSchedule', value: '0 */10 * * * *' }
  { name: 'ServerlessServe__Audit__PseudonymKey', value: '@Microsoft.KeyVault(SecretUri=${secretUri}${secretNames.auditPseudonymKey})' }
  { name: 'ServerlessServe__Audit__CheckpointKeyPem', value: '@Microsoft.KeyVault(SecretUri=${secretUri}${secretNames.auditCheckpointKey})' }
  // The audit witness (docs/audit.md, "Witness"): another account, written with the witness identity (not
  // AZURE_CLIENT_ID's), heads countersigned with a key of its own.
  { name: 'ServerlessServe__Audit__Witness__BlobServiceUri', value: witnessBlobEndpoint }
  { name: 'ServerlessServe__Audit__Witness__Container', value: witnessContainerName }
  { name: 'ServerlessServe__Audit__Witness__ManagedIdentityClientId', value: witnessIdentityClientId }
  { name: 'ServerlessServe__Audit__Witness__KeyPem', value: '@Microsoft.KeyVault(SecretUri=${secretUri}${secretNames.auditWitnessKey})' }
  // Tokens for the inference app from the identity of AZURE_CLIENT_ID (docs/identity.md, "Services"): no key.
  { name: 'ServerlessServe__ServiceToken__Resource', value: inferenceAudience }
  { name: 'ServerlessServe__Identity__Authority', value: identityAuthority }
  { name: 'ServerlessServe__Identity__Audiences__0', value: identityAudience }
  // Signed requests (docs/identity.md, "`@target-uri` behind the Functions front end"): the origin callers sign. Its
  // key and replay tables (requestkeys, requestnonces) are on the data account's table endpoint, derived from
  // ServerlessServe__Storage__BlobServiceUri, like the budgets, containment and extraction tables.
  { name: 'ServerlessServe__Signatures__PublicBaseUrl', value: publicBaseUrl }
]

@description('Public host names the app may call over HTTPS besides those its settings name: infra/egress.json plus the operator\'s egressAllowedHosts, the same list the firewall allows.')
param egressAllowedHosts array = []

// The in-process egress allow-list's extra entries (docs/deploy.md, "Egress").
var egressSettings = [for (host, i) in egressAllowedHosts: { name: 'ServerlessServe__Egress__AllowedHosts__${i}', value: host }]

resource site 'Microsoft.Web/sites@2024-11-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'gateway' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
      '${witnessIdentityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    keyVaultReferenceIdentity: identityId
    virtualNetworkSubnetId: vnetEnabled ? subnetId : null
    // All outbound traffic (not only RFC 1918) leaves through the VNet and its NSG.
    outboundVnetRouting: {
      allTraffic: vnetEnabled
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${runtimeBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      appSettings: concat(appSettings, egressSettings, empty(identitySiblingAudience) ? [] : [
        { name: 'ServerlessServe__Identity__SiblingAudiences__0', value: identitySiblingAudience }
      ])
    }
  }
}

// No FTP and no basic-auth deployments: `azd deploy` publishes with an Entra token.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

// The Functions host's own logs (starts, failures, function executions) into the workspace, beside the app's
// telemetry in Application Insights.
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'diag-gateway'
  scope: site
  properties: {
    workspaceId: logAnalyticsId
    logs: [
      { category: 'FunctionAppLogs', enabled: true }
    ]
  }
}

output name string = site.name
output defaultHostName string = site.properties.defaultHostName
