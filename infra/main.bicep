// ServerlessServe on Azure: everything `azd up` provisions. Subscription scope: creates the resource
// group, then one module per concern. Names follow azd conventions (abbreviation + resource token)
// and every one can be overridden. Outputs in UPPER_SNAKE become azd environment values.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; seeds the resource token and the resource group name.')
param environmentName string

@minLength(1)
@description('Region for every resource. Pick one with serverless GPUs in Container Apps, or set gpuEnabled=false.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Object ID of the operator running azd; given Storage Blob Data Contributor on `models` to publish. Empty for none.')
param principalId string = ''

@allowed(['User', 'Group', 'ServicePrincipal'])
param principalType string = 'User'

// Data protection and audit (docs/deploy.md, "Data protection and audit").
@description('Object ID of a read-only auditor (`ssctl audit verify`): Storage Blob Data Reader on `audit` and `audit-witness`. Empty for none.')
param auditorPrincipalId string = ''

@allowed(['User', 'Group', 'ServicePrincipal'])
param auditorPrincipalType string = 'Group'

@description('E-mail notified when a retention policy or a lock changes. Empty: the activity-log alert fires without an action group.')
param auditAlertEmail string = ''

@description('Public origin of the gateway (https://host[:port]) that signed requests are checked against. Empty: https://<gateway app name>.azurewebsites.net, its default host name.')
param gatewayPublicBaseUrl string = ''

@description('Private network: VNet, NSGs denying Internet egress, private endpoints, public access off. Turn off only for throwaway development deployments.')
param vnetEnabled bool = true

// Egress (docs/deploy.md, "Egress"): NSG service tags, or also Azure Firewall with per-host application rules built
// from the same allow-list the apps enforce in process (infra/egress.json plus egressAllowedHosts).
@description('With the VNet: nsg (service tags on the NSGs) or firewall (also Azure Firewall: 0.0.0.0/0 from the app subnets routed to it, HTTPS to listed host names only).')
@allowed(['nsg', 'firewall'])
param egressMode string = 'nsg'

@description('Extra host names the gateway and admin apps may call over HTTPS (443): added to their in-process allow-list and, in firewall mode, to the firewall\'s rule.')
param egressAllowedHosts array = []

@description('Existing private DNS zones (a hub\'s), by key: acr, blob, queue, table, vault, web. A zone given is used and not created or linked here.')
param privateDnsZoneIds object = {}

@description('Run inference on a serverless GPU workload profile (CUDA). false: the Consumption CPU profile.')
param gpuEnabled bool = true

@description('Name of the GPU workload profile in the Container Apps environment.')
param gpuWorkloadProfileName string = 'gpu'

@description('Serverless GPU profile type; the replica size follows it (T4: 8 vCPU, 56 GiB; A100: 24 vCPU, 220 GiB).')
@allowed(['Consumption-GPU-NC8as-T4', 'Consumption-GPU-NC24-A100'])
param gpuWorkloadProfileType string = 'Consumption-GPU-NC8as-T4'

@description('Inference image (set by azd after the first deploy); empty uses a placeholder until then.')
param inferenceImageName string = ''

@description('Publisher image of the publish job (set by the postprovision hook after it builds one); empty uses a placeholder that is never started.')
param publisherImageName string = ''

// Caller tokens: bearer tokens from an OpenID Connect issuer, by default this tenant's Entra ID (v2 endpoint),
// validated against the issuer's discovery document and key set (rotated keys are picked up without a restart).
// Entra ID needs an app registration that exposes the API (its client id or application id URI is the audience) and
// defines the app roles that model policies name: Bicep cannot create it, docs/identity.md shows how. Without an
// audience the gateway refuses to start.
@description('OIDC authority (issuer URL) of caller tokens. Empty: https://login.microsoftonline.com/{this tenant}/v2.0.')
param identityAuthority string = ''

@description('Accepted `aud` of caller tokens: the Entra ID app registration\'s client id or application id URI (api://...).')
param identityAudience string = ''

@description('Accepted `aud` of admin tokens: the admin API app registration\'s client id or application id URI (never the gateway\'s). Empty: the admin app refuses to start. See docs/identity.md, "The admin plane".')
param identityAdminAudience string = ''

@description('Largest package the admin app takes for a publish, in bytes (its limit and its Functions host\'s).')
@minValue(1024)
@maxValue(1073741824)
param adminMaxPackageBytes int = 134217728

@description('PEM public key of the model signer, or its base64. Empty: no model is trusted, nothing is served.')
param modelSignerPublicKeyPem string = ''

// Gateway → inference: the gateway's managed identity asks Entra ID for a token for the inference API (its app
// registration's application id URI as the resource); the inference app accepts tokens of this tenant for that
// audience from the gateway's identity only (its client id and principal id, from the identity module). Bicep cannot
// create the inference API's app registration: docs/identity.md ("Services") shows how. Without an audience both apps
// refuse to start.
@description('Application id URI of the inference API\'s Entra ID app registration (e.g. api://serverlessserve-inference): the resource the gateway asks tokens for, and the inference app\'s audience.')
param inferenceAudience string = ''

@description('Client id of the inference API\'s app registration: the `aud` of its v2 access tokens. Empty: only the application id URI (v1 tokens, Entra ID\'s default for managed identities) is accepted.')
param inferenceClientId string = ''

@description('Days each audit blob stays immutable.')
@minValue(1)
@maxValue(146000)
param auditRetentionDays int = 365

@description('Days each audit witness head stays immutable (container `audit-witness` in the witness account). Default: the audit retention.')
@minValue(1)
@maxValue(146000)
param auditWitnessRetentionDays int = auditRetentionDays

@description('True once the postprovision hook has locked the retention policies of `audit` and `audit-witness` (it sets SERVERLESSSERVE_AUDIT_RETENTION_LOCKED): the template then leaves both policies out, since Azure refuses any create or update of a locked policy (only its extend action). Their retention no longer follows auditRetentionDays / auditWitnessRetentionDays; extend it with `az storage container immutability-policy extend` (docs/deploy.md, "Data protection and audit").')
param auditRetentionLocked bool = false

@description('Days each model version stays immutable (version-level WORM).')
@minValue(1)
@maxValue(146000)
param modelRetentionDays int = 365

@description('Days a durable job\'s claim-check payloads (items over 256 KiB, container `job-payloads`) are kept before the lifecycle rule deletes them; also how long the gateway keeps job results (ServerlessServe__Jobs__ResultRetention).')
@minValue(1)
@maxValue(365)
param jobRetentionDays int = 1

@description('Registry SKU without the VNet. With the VNet the registry is Premium whatever this says: its private endpoint needs Premium.')
@allowed(['Basic', 'Standard', 'Premium'])
param containerRegistrySku string = 'Basic'

@minValue(1)
@maxValue(1000)
param gatewayMaximumInstanceCount int = 100

@minValue(1)
@maxValue(100)
param inferenceMaximumReplicas int = 4

@description('Largest request body in bytes, for both apps and the Functions host in front of each (which refuses a larger declared body before the app sees it). Default 16 MiB.')
@minValue(1024)
@maxValue(104857600)
param maxRequestBodyBytes int = 16777216

// Secrets: written to Key Vault when given, otherwise the current versions stay. PEMs may be given as
// base64 of the PEM (single-line, as the hooks keep them in the azd environment).
@secure()
@description('Audit pseudonymisation HMAC key (base64 of 32 random bytes). Empty keeps the current Key Vault version.')
param auditPseudonymKey string = ''

@secure()
@description('Audit checkpoint signing key (PEM PKCS#8 ECDSA P-256 private key). Empty keeps the current Key Vault version.')
param auditCheckpointKeyPem string = ''

@secure()
@description('Audit witness countersigning key (PEM PKCS#8 ECDSA P-256 private key; must differ from the checkpoint key). Empty keeps the current Key Vault version.')
param auditWitnessKeyPem string = ''


@description('How the Key Vault is created: recover brings back a vault of this name left soft-deleted by `azd down`. The preprovision hook sets it (SERVERLESSSERVE_KEY_VAULT_CREATE_MODE).')
@allowed(['default', 'recover'])
param keyVaultCreateMode string = 'default'

@description('Mixed into every generated name. Empty: the names of earlier deployments. Set a new value (SERVERLESSSERVE_RESOURCE_SALT) to deploy beside resources that cannot be deleted yet: a data account holding audit blobs under retention, a Key Vault under purge protection.')
@maxLength(16)
param resourceSalt string = ''

// Name overrides: empty means the generated name.
param resourceGroupName string = ''
param logAnalyticsName string = ''
param applicationInsightsName string = ''
param vnetName string = ''
param dataStorageAccountName string = ''
param runtimeStorageAccountName string = ''
param witnessStorageAccountName string = ''
param keyVaultName string = ''
param containerRegistryName string = ''
param gatewayIdentityName string = ''
param inferenceIdentityName string = ''
param adminIdentityName string = ''
param witnessIdentityName string = ''
param publishJobIdentityName string = ''
param publishJobName string = ''
param adminPlanName string = ''
param adminAppName string = ''
param gatewayPlanName string = ''
param gatewayAppName string = ''
param containerAppsEnvironmentName string = ''
param inferenceAppName string = ''

// A PEM as given, or decoded from base64: azd environment values are single-line, so the hooks keep
// PEMs base64-encoded.
func pemText(value string) string => empty(value) || startsWith(trim(value), '-----') ? trim(value) : base64ToString(value)

var abbrs = loadJsonContent('abbreviations.json')
// The one egress allow-list: the apps' settings and the firewall's rules both read egressAppHosts.
var egress = loadJsonContent('egress.json')
var egressAppHosts = union(egress.appHosts, egressAllowedHosts)
// Without a salt, the token of every deployment so far (uniqueString of three values, not four with an empty one).
var resourceToken = toLower(empty(resourceSalt) ? uniqueString(subscription().id, environmentName, location) : uniqueString(subscription().id, environmentName, location, resourceSalt))
var tags = {
  'azd-env-name': environmentName
  application: 'serverlessserve'
}
var secretNames = {
  auditPseudonymKey: 'audit-pseudonym-key'
  auditCheckpointKey: 'audit-checkpoint-key'
  auditWitnessKey: 'audit-witness-key'
}
var tenantAuthority = '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
var callerAuthority = !empty(identityAuthority) ? identityAuthority : tenantAuthority
// The gateway's tokens for the inference app come from its managed identity, so from this tenant's Entra ID whatever
// issues the callers' tokens: v1 unless the resource's registration asks for v2, so this tenant's v1 issuer is accepted
// beside the v2 one its metadata names (the tenant's keys sign both). Derived from identityAuthority before 2026-12-07,
// a custom callers' authority made the inference app refuse every gateway call (found in review).
var serviceIssuers = ['https://sts.windows.net/${tenant().tenantId}/', tenantAuthority]
var publicKeys = {
  modelSigner: pemText(modelSignerPublicKeyPem)
}
var deploymentContainerName = 'app-package-gateway'
var adminDeploymentContainerName = 'app-package-admin'
var modelsContainerName = 'models'
var auditContainerName = 'audit'
var auditWitnessContainerName = 'audit-witness'
var jobPayloadsContainerName = 'job-payloads'
// The tables of shared state on the data account: the apps' option defaults (LimitOptions.BudgetTable,
// ContainmentOptions.Table, SignatureOptions.KeyTable/NonceTable, ExtractionStoreOptions.TableName, and
// JobOptions.TrafficTable, where the gateway's instances post the jobs each runs).
var tableNames = {
  budgets: 'budgets'
  containment: 'containment'
  requestKeys: 'requestkeys'
  requestNonces: 'requestnonces'
  extraction: 'extraction'
  jobTraffic: 'jobtraffic'
}
// The Durable Functions task hub on the runtime account (Azure Storage provider). host.json names it too
// (extensions.durableTask.hubName); the app setting hands the same name to the app's own code.
var jobsTaskHubName = 'serverlessservejobs'

var gatewayPublicBaseUrlOrDefault = !empty(gatewayPublicBaseUrl) ? gatewayPublicBaseUrl : 'https://${names.gatewayApp}.azurewebsites.net'

var names = {
  resourceGroup: !empty(resourceGroupName) ? resourceGroupName : '${abbrs.resourceGroup}${environmentName}'
  logAnalytics: !empty(logAnalyticsName) ? logAnalyticsName : '${abbrs.logAnalytics}${resourceToken}'
  applicationInsights: !empty(applicationInsightsName) ? applicationInsightsName : '${abbrs.applicationInsights}${resourceToken}'
  vnet: !empty(vnetName) ? vnetName : '${abbrs.vnet}${resourceToken}'
  dataStorage: !empty(dataStorageAccountName) ? dataStorageAccountName : '${abbrs.storageAccount}data${resourceToken}'
  runtimeStorage: !empty(runtimeStorageAccountName) ? runtimeStorageAccountName : '${abbrs.storageAccount}rt${resourceToken}'
  witnessStorage: !empty(witnessStorageAccountName) ? witnessStorageAccountName : '${abbrs.storageAccount}wit${resourceToken}'
  keyVault: !empty(keyVaultName) ? keyVaultName : '${abbrs.keyVault}${resourceToken}'
  registry: !empty(containerRegistryName) ? containerRegistryName : '${abbrs.containerRegistry}${resourceToken}'
  gatewayIdentity: !empty(gatewayIdentityName) ? gatewayIdentityName : '${abbrs.managedIdentity}gateway-${resourceToken}'
  inferenceIdentity: !empty(inferenceIdentityName) ? inferenceIdentityName : '${abbrs.managedIdentity}inference-${resourceToken}'
  adminIdentity: !empty(adminIdentityName) ? adminIdentityName : '${abbrs.managedIdentity}admin-${resourceToken}'
  witnessIdentity: !empty(witnessIdentityName) ? witnessIdentityName : '${abbrs.managedIdentity}witness-${resourceToken}'
  publishJobIdentity: !empty(publishJobIdentityName) ? publishJobIdentityName : '${abbrs.managedIdentity}publish-${resourceToken}'
  publishJob: !empty(publishJobName) ? publishJobName : 'caj-publish-${resourceToken}'
  adminPlan: !empty(adminPlanName) ? adminPlanName : '${abbrs.appServicePlan}admin-${resourceToken}'
  adminApp: !empty(adminAppName) ? adminAppName : '${abbrs.functionApp}admin-${resourceToken}'
  gatewayPlan: !empty(gatewayPlanName) ? gatewayPlanName : '${abbrs.appServicePlan}gateway-${resourceToken}'
  gatewayApp: !empty(gatewayAppName) ? gatewayAppName : '${abbrs.functionApp}gateway-${resourceToken}'
  containerAppsEnvironment: !empty(containerAppsEnvironmentName) ? containerAppsEnvironmentName : '${abbrs.containerAppsEnvironment}${resourceToken}'
  inferenceApp: !empty(inferenceAppName) ? inferenceAppName : '${abbrs.containerApp}inference-${resourceToken}'
}

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: names.resourceGroup
  location: location
  tags: tags
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: names.logAnalytics
    applicationInsightsName: names.applicationInsights
    location: location
    tags: tags
  }
}

module network 'modules/network.bicep' = if (vnetEnabled) {
  name: 'network'
  scope: rg
  params: {
    vnetName: names.vnet
    location: location
    tags: tags
    egressMode: egressMode
    logAnalyticsId: monitoring.outputs.logAnalyticsId
    privateDnsZoneIds: privateDnsZoneIds
    // Firewall mode: the apps' allow-list and the platforms' own hosts; the gateway
    // also calls its own endpoint (deploy, trigger sync). The admin app's own endpoint is its private endpoint.
    firewallTargetFqdns: {
      apps: egressAppHosts
      functions: union(egress.functions, ['${names.gatewayApp}.azurewebsites.net', '${names.gatewayApp}.scm.azurewebsites.net'])
      containerApps: egress.containerApps
    }
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    dataAccountName: names.dataStorage
    runtimeAccountName: names.runtimeStorage
    location: location
    tags: tags
    vnetEnabled: vnetEnabled
    privateEndpointSubnetId: network.?outputs.privateEndpointSubnetId ?? ''
    blobDnsZoneId: network.?outputs.blobDnsZoneId ?? ''
    queueDnsZoneId: network.?outputs.queueDnsZoneId ?? ''
    tableDnsZoneId: network.?outputs.tableDnsZoneId ?? ''
    deploymentContainerName: deploymentContainerName
    adminDeploymentContainerName: adminDeploymentContainerName
    modelsContainerName: modelsContainerName
    auditContainerName: auditContainerName
    jobPayloadsContainerName: jobPayloadsContainerName
    auditRetentionDays: auditRetentionDays
    auditRetentionLocked: auditRetentionLocked
    modelRetentionDays: modelRetentionDays
    jobRetentionDays: jobRetentionDays
    tableNames: tableNames
    logAnalyticsId: monitoring.outputs.logAnalyticsId
  }
}

// The audit witness: its own account, reached by its own identity only (docs/deploy.md, "The audit witness").
module witness 'modules/witness.bicep' = {
  name: 'witness'
  scope: rg
  params: {
    name: names.witnessStorage
    location: location
    tags: tags
    vnetEnabled: vnetEnabled
    privateEndpointSubnetId: network.?outputs.privateEndpointSubnetId ?? ''
    blobDnsZoneId: network.?outputs.blobDnsZoneId ?? ''
    containerName: auditWitnessContainerName
    retentionDays: auditWitnessRetentionDays
    retentionLocked: auditRetentionLocked
    logAnalyticsId: monitoring.outputs.logAnalyticsId
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: names.keyVault
    location: location
    // The salt the vault's name came from: preflight recovers a soft-deleted vault only of this environment and salt
    // (a new salt names a new vault, which a recovery of the old one's name would make fail).
    tags: union(tags, { 'serverlessserve-salt': resourceSalt })
    vnetEnabled: vnetEnabled
    privateEndpointSubnetId: network.?outputs.privateEndpointSubnetId ?? ''
    vaultDnsZoneId: network.?outputs.vaultDnsZoneId ?? ''
    createMode: keyVaultCreateMode
    logAnalyticsId: monitoring.outputs.logAnalyticsId
    secrets: {
      '${secretNames.auditPseudonymKey}': auditPseudonymKey
      '${secretNames.auditCheckpointKey}': pemText(auditCheckpointKeyPem)
      '${secretNames.auditWitnessKey}': pemText(auditWitnessKeyPem)
    }
    contentTypes: {
      '${secretNames.auditPseudonymKey}': 'text/plain; base64'
      '${secretNames.auditCheckpointKey}': 'application/x-pem-file'
      '${secretNames.auditWitnessKey}': 'application/x-pem-file'
    }
  }
}

module registry 'modules/registry.bicep' = {
  name: 'registry'
  scope: rg
  params: {
    name: names.registry
    location: location
    tags: tags
    sku: containerRegistrySku
    vnetEnabled: vnetEnabled
    privateEndpointSubnetId: network.?outputs.privateEndpointSubnetId ?? ''
    acrDnsZoneId: network.?outputs.acrDnsZoneId ?? ''
  }
}

module gatewayIdentity 'modules/identity.bicep' = {
  name: 'gateway-identity'
  scope: rg
  params: {
    name: names.gatewayIdentity
    location: location
    tags: tags
  }
}

module inferenceIdentity 'modules/identity.bicep' = {
  name: 'inference-identity'
  scope: rg
  params: {
    name: names.inferenceIdentity
    location: location
    tags: tags
  }
}

// The admin app's own identity: nothing the gateway or the inference app holds is shared with it.
module adminIdentity 'modules/identity.bicep' = {
  name: 'admin-identity'
  scope: rg
  params: {
    name: names.adminIdentity
    location: location
    tags: tags
  }
}

// The audit witness's writer: the gateway and the admin app carry it beside their own identity and use it for the
// witness account only. It holds one role, on the witness container; their own identities hold none there.
module witnessIdentity 'modules/identity.bicep' = {
  name: 'witness-identity'
  scope: rg
  params: {
    name: names.witnessIdentity
    location: location
    tags: tags
  }
}

// The publish job's identity: writes new model versions from inside the VNet, pulls its image, nothing else.
module publishJobIdentity 'modules/identity.bicep' = {
  name: 'publish-job-identity'
  scope: rg
  params: {
    name: names.publishJobIdentity
    location: location
    tags: tags
  }
}

// Role assignments before the apps: they resolve Key Vault references and pull images on first
// start. Names are known before deployment (what-if friendly), so the order comes from dependsOn.
module rbac 'modules/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  dependsOn: [storage, witness, keyVault, registry, monitoring, gatewayIdentity, inferenceIdentity, adminIdentity, witnessIdentity, publishJobIdentity]
  params: {
    adminIdentityName: names.adminIdentity
    witnessIdentityName: names.witnessIdentity
    publishJobIdentityName: names.publishJobIdentity
    gatewayIdentityName: names.gatewayIdentity
    inferenceIdentityName: names.inferenceIdentity
    publisherPrincipalId: principalId
    publisherPrincipalType: principalType
    auditorPrincipalId: auditorPrincipalId
    auditorPrincipalType: auditorPrincipalType
    dataAccountName: names.dataStorage
    modelsContainerName: modelsContainerName
    auditContainerName: auditContainerName
    jobPayloadsContainerName: jobPayloadsContainerName
    tableNames: tableNames
    runtimeAccountName: names.runtimeStorage
    adminDeploymentContainerName: adminDeploymentContainerName
    witnessAccountName: names.witnessStorage
    witnessContainerName: auditWitnessContainerName
    keyVaultName: names.keyVault
    registryName: names.registry
    applicationInsightsName: names.applicationInsights
  }
}

module inference 'modules/inference.bicep' = {
  name: 'inference'
  scope: rg
  dependsOn: [rbac]
  params: {
    environmentName: names.containerAppsEnvironment
    appName: names.inferenceApp
    location: location
    tags: tags
    identityId: inferenceIdentity.outputs.id
    identityClientId: inferenceIdentity.outputs.clientId
    vnetEnabled: vnetEnabled
    subnetId: network.?outputs.appsSubnetId ?? ''
    vnetId: network.?outputs.vnetId ?? ''
    gatewaySubnetPrefix: network.?outputs.gatewaySubnetPrefix ?? ''
    runtimeBlobEndpoint: storage.outputs.runtimeBlobEndpoint
    runtimeQueueEndpoint: storage.outputs.runtimeQueueEndpoint
    runtimeTableEndpoint: storage.outputs.runtimeTableEndpoint
    logAnalyticsId: monitoring.outputs.logAnalyticsId
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    registryLoginServer: registry.outputs.loginServer
    imageName: inferenceImageName
    gpuEnabled: gpuEnabled
    gpuWorkloadProfileName: gpuWorkloadProfileName
    gpuWorkloadProfileType: gpuWorkloadProfileType
    dataBlobEndpoint: storage.outputs.dataBlobEndpoint
    modelsContainerName: modelsContainerName
    modelSignerPublicKeyPem: publicKeys.modelSigner
    serviceAuthority: tenantAuthority
    serviceIssuers: serviceIssuers
    serviceAudience: inferenceAudience
    serviceClientId: inferenceClientId
    gatewayIdentityClientId: gatewayIdentity.outputs.clientId
    gatewayIdentityPrincipalId: gatewayIdentity.outputs.principalId
    maxReplicas: inferenceMaximumReplicas
    maxRequestBodyBytes: maxRequestBodyBytes
  }
}

module gateway 'modules/gateway.bicep' = {
  name: 'gateway'
  scope: rg
  dependsOn: [rbac]
  params: {
    name: names.gatewayApp
    planName: names.gatewayPlan
    location: location
    tags: tags
    identityId: gatewayIdentity.outputs.id
    identityClientId: gatewayIdentity.outputs.clientId
    vnetEnabled: vnetEnabled
    subnetId: network.?outputs.gatewaySubnetId ?? ''
    runtimeBlobEndpoint: storage.outputs.runtimeBlobEndpoint
    runtimeQueueEndpoint: storage.outputs.runtimeQueueEndpoint
    runtimeTableEndpoint: storage.outputs.runtimeTableEndpoint
    deploymentContainerName: deploymentContainerName
    dataBlobEndpoint: storage.outputs.dataBlobEndpoint
    modelsContainerName: modelsContainerName
    auditContainerName: auditContainerName
    witnessIdentityId: witnessIdentity.outputs.id
    witnessIdentityClientId: witnessIdentity.outputs.clientId
    witnessBlobEndpoint: witness.outputs.blobEndpoint
    witnessContainerName: witness.outputs.containerName
    jobsTaskHubName: jobsTaskHubName
    jobPayloadsContainerName: jobPayloadsContainerName
    jobRetentionDays: jobRetentionDays
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    logAnalyticsId: monitoring.outputs.logAnalyticsId
    publicBaseUrl: gatewayPublicBaseUrlOrDefault
    keyVaultUri: keyVault.outputs.uri
    secretNames: secretNames
    inferenceBaseUrl: 'https://${inference.outputs.fqdn}/api'
    identityAuthority: callerAuthority
    identityAudience: identityAudience
    identitySiblingAudience: identityAdminAudience
    inferenceAudience: inferenceAudience
    modelSignerPublicKeyPem: publicKeys.modelSigner
    maximumInstanceCount: gatewayMaximumInstanceCount
    maxRequestBodyBytes: maxRequestBodyBytes
    egressAllowedHosts: egressAppHosts
  }
}

module admin 'modules/admin.bicep' = {
  name: 'admin'
  scope: rg
  dependsOn: [rbac]
  params: {
    name: names.adminApp
    planName: names.adminPlan
    location: location
    tags: tags
    identityId: adminIdentity.outputs.id
    identityClientId: adminIdentity.outputs.clientId
    vnetEnabled: vnetEnabled
    subnetId: network.?outputs.adminSubnetId ?? ''
    runtimeBlobEndpoint: storage.outputs.runtimeBlobEndpoint
    runtimeQueueEndpoint: storage.outputs.runtimeQueueEndpoint
    runtimeTableEndpoint: storage.outputs.runtimeTableEndpoint
    deploymentContainerName: adminDeploymentContainerName
    dataBlobEndpoint: storage.outputs.dataBlobEndpoint
    modelsContainerName: modelsContainerName
    auditContainerName: auditContainerName
    witnessIdentityId: witnessIdentity.outputs.id
    witnessIdentityClientId: witnessIdentity.outputs.clientId
    witnessBlobEndpoint: witness.outputs.blobEndpoint
    witnessContainerName: witness.outputs.containerName
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    logAnalyticsId: monitoring.outputs.logAnalyticsId
    keyVaultUri: keyVault.outputs.uri
    secretNames: secretNames
    identityAuthority: callerAuthority
    identityAudience: identityAdminAudience
    identitySiblingAudience: identityAudience
    modelSignerPublicKeyPem: publicKeys.modelSigner
    maxPackageBytes: adminMaxPackageBytes
    egressAllowedHosts: egressAppHosts
  }
}

// Publishing from inside the VNet: a manual Container Apps job in the inference environment (docs/deploy.md,
// "Publishing models"). The postprovision hook builds its image and starts it.
module publishJob 'modules/publisher.bicep' = {
  name: 'publish-job'
  scope: rg
  dependsOn: [rbac]
  params: {
    name: names.publishJob
    location: location
    tags: tags
    environmentId: inference.outputs.environmentId
    identityId: publishJobIdentity.outputs.id
    identityClientId: publishJobIdentity.outputs.clientId
    registryLoginServer: registry.outputs.loginServer
    imageName: publisherImageName
    dataBlobEndpoint: storage.outputs.dataBlobEndpoint
    modelSignerPublicKeyPem: publicKeys.modelSigner
  }
}

// Retention-policy and lock changes raise an activity-log alert (docs/deploy.md, "Data protection and audit").
module auditAlerts 'modules/audit-alerts.bicep' = {
  name: 'audit-alerts'
  scope: rg
  params: {
    name: 'alert-retention-changes-${resourceToken}'
    tags: tags
    email: auditAlertEmail
  }
}

// The admin app's only way in: a private endpoint in the VNet.
module adminPrivateEndpoint 'modules/private-endpoint.bicep' = if (vnetEnabled) {
  name: 'admin-private-endpoint'
  scope: rg
  params: {
    name: 'pe-${names.adminApp}'
    location: location
    tags: tags
    privateLinkServiceId: admin.outputs.id
    groupId: 'sites'
    subnetId: network.?outputs.privateEndpointSubnetId ?? ''
    privateDnsZoneId: network.?outputs.webDnsZoneId ?? ''
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_CONTAINER_REGISTRY_ENDPOINT string = registry.outputs.loginServer
output AZURE_CONTAINER_REGISTRY_NAME string = registry.outputs.name
output AZURE_CONTAINER_APPS_ENVIRONMENT_NAME string = inference.outputs.environmentName
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_KEY_VAULT_ENDPOINT string = keyVault.outputs.uri
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.dataAccountName
output AZURE_STORAGE_BLOB_ENDPOINT string = storage.outputs.dataBlobEndpoint
output SERVERLESSSERVE_AUDIT_WITNESS_ACCOUNT_NAME string = witness.outputs.accountName
output SERVERLESSSERVE_AUDIT_CONTAINER string = auditContainerName
output SERVERLESSSERVE_AUDIT_WITNESS_CONTAINER string = witness.outputs.containerName
output SERVERLESSSERVE_SIGNATURES_PUBLIC_BASE_URL string = gatewayPublicBaseUrlOrDefault
output SERVICE_GATEWAY_NAME string = gateway.outputs.name
output SERVICE_GATEWAY_URI string = 'https://${gateway.outputs.defaultHostName}/api'
output SERVICE_ADMIN_NAME string = admin.outputs.name
output SERVICE_ADMIN_URI string = 'https://${admin.outputs.defaultHostName}/api/manage'
output SERVICE_INFERENCE_NAME string = inference.outputs.appName
output SERVERLESSSERVE_PUBLISH_JOB_NAME string = publishJob.outputs.name
output SERVERLESSSERVE_MODELS_BLOB_URI string = '${storage.outputs.dataBlobEndpoint}${modelsContainerName}'
output SERVERLESSSERVE_VNET_ENABLED bool = vnetEnabled
output SERVERLESSSERVE_GPU_ENABLED bool = gpuEnabled
// What a second machine's azd environment needs to provision this deployment again (`azd env refresh` takes them):
// without them its preprovision hook would seed new audit keys and a new model signer (preflight.sh stops it).
output SERVERLESSSERVE_MODEL_SIGNER_PUBLIC_KEY_PEM string = modelSignerPublicKeyPem
output SERVERLESSSERVE_KEYS_SEEDED string = 'true'
output SERVERLESSSERVE_WITNESS_KEY_SEEDED string = 'true'
output SERVERLESSSERVE_KEYS_SEEDED_SALT string = resourceSalt
output SERVERLESSSERVE_RESOURCE_SALT string = resourceSalt
