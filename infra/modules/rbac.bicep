// Every role assignment of the platform, each on the narrowest resource that works and named
// guid(scope, principal, role) so that re-provisioning is idempotent (the principal of a managed
// identity is named by the identity's resource ID, which what-if can compute before deployment). No one is given Owner,
// Contributor, User Access Administrator or any role that can grant roles.

@description('User-assigned identity of the admin app.')
param adminIdentityName string

@description('User-assigned identity of the gateway (its resource ID, known before deployment, names the assignments).')
param gatewayIdentityName string

@description('User-assigned identity of the inference app.')
param inferenceIdentityName string

@description('User-assigned identity that writes audit witness heads (carried by the gateway and the admin app).')
param witnessIdentityName string

@description('Deploying user or group allowed to publish models; empty for none.')
param publisherPrincipalId string = ''

@allowed(['User', 'Group', 'ServicePrincipal'])
param publisherPrincipalType string = 'User'

@description('Read-only auditor (`ssctl audit verify`): Storage Blob Data Reader on `audit` and on the witness container. Empty for none.')
param auditorPrincipalId string = ''

@allowed(['User', 'Group', 'ServicePrincipal'])
param auditorPrincipalType string = 'Group'

param dataAccountName string
param modelsContainerName string
param auditContainerName string
param jobPayloadsContainerName string

@description('Tables of the data account, by role: budgets, containment, requestKeys, requestNonces, extraction.')
param tableNames object
param runtimeAccountName string
@description('User-assigned identity of the publish job (Container Apps job inside the VNet).')
param publishJobIdentityName string

@description('The Functions host\'s lock container on the runtime account (the inference host\'s only storage).')
param hostLocksContainerName string = 'azure-webjobs-hosts'

@description('The admin app\'s deployment package container on the runtime account: the admin identity reads its package there, and the gateway\'s account-wide blob role may not write it.')
param adminDeploymentContainerName string = 'app-package-admin'
param witnessAccountName string
param witnessContainerName string
param keyVaultName string
param registryName string
param applicationInsightsName string

resource gatewayIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: gatewayIdentityName
}

resource adminIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: adminIdentityName
}

resource inferenceIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: inferenceIdentityName
}

// Built-in role definition IDs (the same in every tenant).
var roles = {
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d'
}

resource dataAccount 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: dataAccountName

  resource blobService 'blobServices' existing = {
    name: 'default'

    resource models 'containers' existing = {
      name: modelsContainerName
    }

    resource audit 'containers' existing = {
      name: auditContainerName
    }

    resource jobPayloads 'containers' existing = {
      name: jobPayloadsContainerName
    }
  }

  resource tableService 'tableServices' existing = {
    name: 'default'
  }
}

// The tables each app uses (functions/: GetTableClient), each given Table Data Contributor on that table alone.
// The gateway: shared budgets, containment (it reads it and writes its own automatic blocks), request keys (read;
// the write is its CreateIfNotExists at start), replay nonces and extraction detector state. The admin app:
// containment (sets and lifts) and request keys (registers and revokes). The gateway also posts and reads the jobs
// each of its instances runs (jobtraffic).
var gatewayTables = [tableNames.budgets, tableNames.containment, tableNames.requestKeys, tableNames.requestNonces, tableNames.extraction, tableNames.jobTraffic]
var adminTables = [tableNames.containment, tableNames.requestKeys]

resource gatewayTableRefs 'Microsoft.Storage/storageAccounts/tableServices/tables@2025-01-01' existing = [
  for table in gatewayTables: {
    parent: dataAccount::tableService
    name: table
  }
]

resource adminTableRefs 'Microsoft.Storage/storageAccounts/tableServices/tables@2025-01-01' existing = [
  for table in adminTables: {
    parent: dataAccount::tableService
    name: table
  }
]

// The delete actions of Blob Data Contributor (and those it lacks but a later role change might bring), refused by an
// ABAC condition on every assignment over the write-once audit containers: appends and creates stay possible, deleting
// a record does not, whatever the retention policy's state (an unlocked policy can be shortened or removed by whoever
// manages the account; this condition holds regardless). Container deletion is a control-plane action that conditions
// do not cover; the retention policy refuses it while any blob is retained, and the account's lock refuses account
// deletion (docs/deploy.md, "Data protection and audit").
var noBlobDelete = '''
(
 (
  !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete'})
  AND
  !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/deleteBlobVersion/action'})
  AND
  !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/permanentDelete/action'})
 )
)
'''

// The gateway's blob role spans the runtime account (the task hub names its containers at run time), which also holds
// the admin app's deployment package. Without this condition the Internet-facing gateway could replace that package and
// run its code as the admin identity at the admin app's next start: no write, create or delete in that one container.
var noAdminPackageWrites = '''
(
 (
  !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write'})
  AND
  !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action'})
  AND
  !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete'})
  AND
  !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/move/action'})
 )
 OR
 (
  @Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringNotEquals 'ADMIN_PACKAGE'
 )
)
'''

resource runtimeAccount 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: runtimeAccountName

  resource blobService 'blobServices' existing = {
    name: 'default'

    resource hostLocks 'containers' existing = {
      name: hostLocksContainerName
    }

    resource adminPackage 'containers' existing = {
      name: adminDeploymentContainerName
    }
  }
}

resource witnessIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: witnessIdentityName
}

resource witnessAccount 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: witnessAccountName

  resource blobService 'blobServices' existing = {
    name: 'default'

    resource heads 'containers' existing = {
      name: witnessContainerName
    }
  }
}

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' existing = {
  name: keyVaultName
}

resource registry 'Microsoft.ContainerRegistry/registries@2025-04-01' existing = {
  name: registryName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// ---- Gateway ----

// Reads signed manifests, policies and revocation lists; verification is its own.
resource gatewayModelsReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(dataAccount::blobService::models.id, gatewayIdentity.id, roles.storageBlobDataReader)
  scope: dataAccount::blobService::models
  properties: {
    principalId: gatewayIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataReader)
  }
}

// Appends audit records; the container's WORM policy forbids rewriting them, and the condition any delete.
resource gatewayAuditWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(dataAccount::blobService::audit.id, gatewayIdentity.id, roles.storageBlobDataContributor)
  scope: dataAccount::blobService::audit
  properties: {
    principalId: gatewayIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    conditionVersion: '2.0'
    condition: noBlobDelete
  }
}

// The shared security state on the data account's tables: one assignment per table, nothing account-wide.
resource gatewayTableWriters 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (table, i) in gatewayTables: {
    name: guid(gatewayTableRefs[i].id, gatewayIdentity.id, roles.storageTableDataContributor)
    scope: gatewayTableRefs[i]
    properties: {
      principalId: gatewayIdentity.properties.principalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    }
  }
]

// Writes, reads and deletes the claim-check payloads of durable jobs (items over 256 KiB); on the data
// account it can do nothing else beyond reading `models` and appending to `audit`.
resource gatewayJobPayloads 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(dataAccount::blobService::jobPayloads.id, gatewayIdentity.id, roles.storageBlobDataContributor)
  scope: dataAccount::blobService::jobPayloads
  properties: {
    principalId: gatewayIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
  }
}

// Functions host state, the durable task hub and the Flex Consumption deployment package live in the
// runtime account, which holds nothing else. The Durable extension's Azure Storage provider needs all
// three data roles on the task hub's account (docs/durable-backend.md):
// - Blob Data Contributor: partition leases and large-message blobs in containers it creates at run
//   time; also the host's own containers (keys, locks) and the deployment package;
// - Queue Data Contributor: the control queues and the work-item queue (send, receive, delete);
// - Table Data Contributor: the History and Instances tables (and the host's diagnostic events).
// The containers, queues and tables are named at run time, so the account is the narrowest scope that
// works. Data roles only: no Storage Account Contributor (it could read keys and turn shared keys back
// on) and no Blob Data Owner (its extra rights, ACLs and ownership on hierarchical-namespace accounts
// among them, are not used on this account).
resource gatewayRuntimeBlobs 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(runtimeAccount.id, gatewayIdentity.id, roles.storageBlobDataContributor)
  scope: runtimeAccount
  properties: {
    principalId: gatewayIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    conditionVersion: '2.0'
    condition: replace(noAdminPackageWrites, 'ADMIN_PACKAGE', adminDeploymentContainerName)
  }
}

resource gatewayRuntimeQueues 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(runtimeAccount.id, gatewayIdentity.id, roles.storageQueueDataContributor)
  scope: runtimeAccount
  properties: {
    principalId: gatewayIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
  }
}

resource gatewayRuntimeTables 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(runtimeAccount.id, gatewayIdentity.id, roles.storageTableDataContributor)
  scope: runtimeAccount
  properties: {
    principalId: gatewayIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
  }
}

resource gatewaySecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, gatewayIdentity.id, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    principalId: gatewayIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
  }
}

resource gatewayTelemetry 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, gatewayIdentity.id, roles.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    principalId: gatewayIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
  }
}

// ---- Inference ----

resource inferenceModelsReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(dataAccount::blobService::models.id, inferenceIdentity.id, roles.storageBlobDataReader)
  scope: dataAccount::blobService::models
  properties: {
    principalId: inferenceIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataReader)
  }
}

resource inferencePull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, inferenceIdentity.id, roles.acrPull)
  scope: registry
  properties: {
    principalId: inferenceIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.acrPull)
  }
}

resource inferenceTelemetry 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, inferenceIdentity.id, roles.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    principalId: inferenceIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
  }
}

// ---- Publisher (the operator running azd) ----

// Writes new model versions (write-once; version-level WORM keeps old ones intact).
resource publisherModelsWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(publisherPrincipalId)) {
  name: guid(dataAccount::blobService::models.id, publisherPrincipalId, roles.storageBlobDataContributor)
  scope: dataAccount::blobService::models
  properties: {
    principalId: publisherPrincipalId
    principalType: publisherPrincipalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
  }
}

// The admin app: publishes model versions (write-once: the container's version-level WORM forbids rewriting them),
// appends its own audit chain and reads every chain (security events, checkpoints), sets and lifts containment in the
// `containment` table, registers and revokes request keys in `requestkeys`, runs its Functions host on the runtime
// account, resolves its two Key Vault references and sends telemetry. Nothing else: no job payloads, no registry.
resource adminModelsWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(dataAccount::blobService::models.id, adminIdentity.id, roles.storageBlobDataContributor)
  scope: dataAccount::blobService::models
  properties: {
    principalId: adminIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
  }
}

resource adminAuditWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(dataAccount::blobService::audit.id, adminIdentity.id, roles.storageBlobDataContributor)
  scope: dataAccount::blobService::audit
  properties: {
    principalId: adminIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    conditionVersion: '2.0'
    condition: noBlobDelete
  }
}

// Containment and request keys: declared in storage.bicep, so each is its own scope; no table role account-wide.
resource adminTableWriters 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (table, i) in adminTables: {
    name: guid(adminTableRefs[i].id, adminIdentity.id, roles.storageTableDataContributor)
    scope: adminTableRefs[i]
    properties: {
      principalId: adminIdentity.properties.principalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    }
  }
]

// The admin app has HTTP triggers only: its Functions host keeps its primary-host lease in the lock container and reads
// its deployment package, and nothing else on the runtime account (its host keys stay in its file system,
// AzureWebJobsSecretStorageType=files). Not the account-wide data roles the gateway's task hub needs: with those the
// admin identity could read and forge the gateway's orchestration state and read its host keys.
resource adminHostLocks 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(runtimeAccount::blobService::hostLocks.id, adminIdentity.id, roles.storageBlobDataContributor)
  scope: runtimeAccount::blobService::hostLocks
  properties: {
    principalId: adminIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
  }
}

resource adminPackage 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(runtimeAccount::blobService::adminPackage.id, adminIdentity.id, roles.storageBlobDataContributor)
  scope: runtimeAccount::blobService::adminPackage
  properties: {
    principalId: adminIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
  }
}

resource adminSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, adminIdentity.id, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    principalId: adminIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
  }
}

resource adminTelemetry 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, adminIdentity.id, roles.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    principalId: adminIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
  }
}

// ---- Audit witness ----

// The only role on the witness account: its own identity creates `audit-witness` if missing and writes one head blob
// per signed tree head (created once, never rewritten: the container's retention policy forbids it). Blob Data
// Contributor is the narrowest built-in role that creates blobs (Blob Data Reader cannot write). The apps' own
// identities hold nothing here, and this identity holds nothing on the data account, so neither credential alone can
// both rewrite the log and the heads that witness it.
resource witnessHeadsWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(witnessAccount::blobService::heads.id, witnessIdentity.id, roles.storageBlobDataContributor)
  scope: witnessAccount::blobService::heads
  properties: {
    principalId: witnessIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    conditionVersion: '2.0'
    condition: noBlobDelete
  }
}

// ---- Auditor ----

// `ssctl audit verify` reads the chain and checks it against the witness heads: read-only, on those two containers.
resource auditorAuditReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(auditorPrincipalId)) {
  name: guid(dataAccount::blobService::audit.id, auditorPrincipalId, roles.storageBlobDataReader)
  scope: dataAccount::blobService::audit
  properties: {
    principalId: auditorPrincipalId
    principalType: auditorPrincipalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataReader)
  }
}

resource auditorWitnessReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(auditorPrincipalId)) {
  name: guid(witnessAccount::blobService::heads.id, auditorPrincipalId, roles.storageBlobDataReader)
  scope: witnessAccount::blobService::heads
  properties: {
    principalId: auditorPrincipalId
    principalType: auditorPrincipalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataReader)
  }
}

// ---- Inference host storage ----

// The inference app's Functions host keeps one thing in storage: its primary-host lease, in the lock container of the
// runtime account. Blob Data Contributor there and nowhere else on that account: no queue or table trigger runs on
// inference, and its host keys stay in its own file system (AzureWebJobsSecretStorageType=files).
resource inferenceHostLocks 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(runtimeAccount::blobService::hostLocks.id, inferenceIdentity.id, roles.storageBlobDataContributor)
  scope: runtimeAccount::blobService::hostLocks
  properties: {
    principalId: inferenceIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
  }
}

// ---- Publish job ----

// The job that publishes signed packages from inside the VNet writes new model versions (write-once, like the admin
// app) and pulls its image. Nothing else: it reads no audit, holds no secret, and verifies packages itself.
resource publishJobIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: publishJobIdentityName
}

resource publishJobModelsWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(dataAccount::blobService::models.id, publishJobIdentity.id, roles.storageBlobDataContributor)
  scope: dataAccount::blobService::models
  properties: {
    principalId: publishJobIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
  }
}

resource publishJobImagePull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, publishJobIdentity.id, roles.acrPull)
  scope: registry
  properties: {
    principalId: publishJobIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.acrPull)
  }
}
