// The admin Function App (the admin plane, /api/manage/...) on its own Flex Consumption plan: its own
// user-assigned identity (plus the audit witness identity, for the witness account only) and its own caller audience (an admin token for the gateway's audience is refused, and
// the gateway refuses every token carrying the admin role). Reachable only from the VNet: public network access
// is off and it is served through a private endpoint (privatelink.azurewebsites.net); with vnetEnabled=false it is
// deployed unreachable (use `ssctl contain` and `ssctl model publish` against storage instead). Outbound traffic
// leaves through the VNet like the gateway's. No secret in its settings: Key Vault references only.

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

param applicationInsightsConnectionString string

@description('Log Analytics workspace receiving the Functions host\'s logs (FunctionAppLogs).')
param logAnalyticsId string
param keyVaultUri string

@description('Key Vault secret names, keyed by role: auditPseudonymKey, auditCheckpointKey, auditWitnessKey.')
param secretNames object

@description('OIDC authority (issuer URL) of admin tokens: the same issuer as callers (the tenant\'s Entra ID).')
param identityAuthority string

@description('Accepted `aud` of admin tokens: the admin API app registration\'s client id or application id URI, never the gateway\'s. Empty: the admin app refuses to start.')
param identityAudience string

@description('The gateway\'s audience: data-plane tokens are genuine tokens of this deployment, so the admin app audits them and refuses them 403. Empty: they get the 401 of any other audience.')
param identitySiblingAudience string = ''

@description('PEM public key of the model signer; a published package must be signed by it.')
param modelSignerPublicKeyPem string

@description('Largest package a publish takes, in bytes: the app\'s limit and the Functions host\'s (FUNCTIONS_REQUEST_BODY_SIZE_LIMIT).')
param maxPackageBytes int = 134217728

@minValue(1)
@maxValue(40)
param maximumInstanceCount int = 2

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

var secretUri = '${keyVaultUri}secrets/'

var appSettings = [
  { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
  { name: 'AzureWebJobsStorage__clientId', value: identityClientId }
  { name: 'AzureWebJobsStorage__blobServiceUri', value: runtimeBlobEndpoint }
  { name: 'AzureWebJobsStorage__queueServiceUri', value: runtimeQueueEndpoint }
  { name: 'AzureWebJobsStorage__tableServiceUri', value: runtimeTableEndpoint }
  { name: 'AzureWebJobsSecretStorageType', value: 'files' }
  { name: 'AzureWebJobsDisableHomepage', value: 'true' }
  { name: 'FUNCTIONS_REQUEST_BODY_SIZE_LIMIT', value: string(maxPackageBytes) }
  { name: 'ServerlessServe__Admin__MaxPackageBytes', value: string(maxPackageBytes) }
  { name: 'AZURE_CLIENT_ID', value: identityClientId }
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: applicationInsightsConnectionString }
  { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD;ClientId=${identityClientId}' }
  { name: 'ServerlessServe__Storage__BlobServiceUri', value: dataBlobEndpoint }
  { name: 'ServerlessServe__Models__Container', value: modelsContainerName }
  { name: 'ServerlessServe__Models__TrustedSignerPems__0', value: modelSignerPublicKeyPem }
  { name: 'ServerlessServe__Audit__Container', value: auditContainerName }
  { name: 'ServerlessServe__Audit__PseudonymKey', value: '@Microsoft.KeyVault(SecretUri=${secretUri}${secretNames.auditPseudonymKey})' }
  { name: 'ServerlessServe__Audit__CheckpointKeyPem', value: '@Microsoft.KeyVault(SecretUri=${secretUri}${secretNames.auditCheckpointKey})' }
  // The audit witness (docs/audit.md, "Witness"): another account, written with the witness identity (not
  // AZURE_CLIENT_ID's), heads countersigned with a key of its own.
  { name: 'ServerlessServe__Audit__Witness__BlobServiceUri', value: witnessBlobEndpoint }
  { name: 'ServerlessServe__Audit__Witness__Container', value: witnessContainerName }
  { name: 'ServerlessServe__Audit__Witness__ManagedIdentityClientId', value: witnessIdentityClientId }
  { name: 'ServerlessServe__Audit__Witness__KeyPem', value: '@Microsoft.KeyVault(SecretUri=${secretUri}${secretNames.auditWitnessKey})' }
  { name: 'ServerlessServe__Identity__Authority', value: identityAuthority }
  { name: 'ServerlessServe__Identity__Audiences__0', value: identityAudience }
]

@description('Public host names the app may call over HTTPS besides those its settings name: infra/egress.json plus the operator\'s egressAllowedHosts, the same list the firewall allows.')
param egressAllowedHosts array = []

// The in-process egress allow-list's extra entries (docs/deploy.md, "Egress").
var egressSettings = [for (host, i) in egressAllowedHosts: { name: 'ServerlessServe__Egress__AllowedHosts__${i}', value: host }]

resource site 'Microsoft.Web/sites@2024-11-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'admin' })
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
    // Inbound only through the private endpoint; the default action denies whatever else reaches the site or its
    // deployment (scm) endpoint.
    publicNetworkAccess: 'Disabled'
    virtualNetworkSubnetId: vnetEnabled ? subnetId : null
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
        instanceMemoryMB: 2048
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      ipSecurityRestrictionsDefaultAction: 'Deny'
      scmIpSecurityRestrictionsDefaultAction: 'Deny'
      appSettings: concat(appSettings, egressSettings, empty(identitySiblingAudience) ? [] : [
        { name: 'ServerlessServe__Identity__SiblingAudiences__0', value: identitySiblingAudience }
      ])
    }
  }
}

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
  name: 'diag-admin'
  scope: site
  properties: {
    workspaceId: logAnalyticsId
    logs: [
      { category: 'FunctionAppLogs', enabled: true }
    ]
  }
}

output id string = site.id
output name string = site.name
output defaultHostName string = site.properties.defaultHostName
