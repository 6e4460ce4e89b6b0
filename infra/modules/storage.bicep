// Two storage accounts, both reachable only with Entra ID (shared keys off) and, with the VNet, only
// through private endpoints:
// - data: `models` (version-level WORM: a published artifact can never change), `audit`
//   (time-based retention with protected append writes: records can be appended, never rewritten) and
//   `job-payloads` (the claim check of durable jobs: item payloads too large for a queue message or the
//   orchestration history, deleted by a lifecycle rule after jobRetentionDays), and the tables of shared
//   security state (budgets, containment, request keys, replay nonces, extraction detector state), declared
//   here so that each app's role can be scoped to exactly the tables it uses (rbac.bicep);
// - runtime: the gateway's deployment package, the Functions host state and the durable task hub
//   (queues, tables, leases). Keeping them apart lets the gateway write its runtime state without any
//   write access to the data account beyond appending audit records and writing job payloads.

param dataAccountName string
param runtimeAccountName string
param location string
param tags object

param vnetEnabled bool
param privateEndpointSubnetId string = ''
param blobDnsZoneId string = ''
param queueDnsZoneId string = ''
param tableDnsZoneId string = ''

@description('Blob container holding the gateway deployment package (Flex Consumption).')
param deploymentContainerName string

@description('Deployment package container of the admin app (each Flex Consumption app deploys to its own).')
param adminDeploymentContainerName string = 'app-package-admin'

param modelsContainerName string = 'models'
param auditContainerName string = 'audit'

@description('Blob container for the claim-check payloads of durable jobs.')
param jobPayloadsContainerName string = 'job-payloads'

@description('Days an audit blob stays immutable after creation.')
@minValue(1)
@maxValue(146000)
param auditRetentionDays int

@description('True once the `audit` retention policy is locked (postprovision hook): the policy is then left out, since Azure refuses to create or update a locked policy.')
param auditRetentionLocked bool = false

@description('Days each model version stays immutable after it is written.')
@minValue(1)
@maxValue(146000)
param modelRetentionDays int

@description('Days after which a job payload blob (and any earlier version of it) is deleted.')
@minValue(1)
@maxValue(365)
param jobRetentionDays int

@description('Tables of the data account, by role: budgets, containment, requestKeys, requestNonces, extraction (the apps\' option defaults).')
param tableNames object

@description('Log Analytics workspace receiving the blob (and, on the data account, table) service logs.')
param logAnalyticsId string

@description('Days deleted blobs and containers can be restored.')
@minValue(1)
@maxValue(365)
param softDeleteRetentionDays int = 14

var commonProperties = {
  allowSharedKeyAccess: false
  defaultToOAuthAuthentication: true
  allowBlobPublicAccess: false
  allowCrossTenantReplication: false
  minimumTlsVersion: 'TLS1_2'
  supportsHttpsTrafficOnly: true
  publicNetworkAccess: vnetEnabled ? 'Disabled' : 'Enabled'
  networkAcls: {
    bypass: 'None'
    defaultAction: vnetEnabled ? 'Deny' : 'Allow'
  }
  encryption: {
    keySource: 'Microsoft.Storage'
    requireInfrastructureEncryption: true
    services: {
      blob: {
        enabled: true
        keyType: 'Account'
      }
      queue: {
        enabled: true
        keyType: 'Account'
      }
      table: {
        enabled: true
        keyType: 'Account'
      }
    }
  }
}

resource dataAccount 'Microsoft.Storage/storageAccounts@2025-01-01' = {
  name: dataAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_ZRS'
  }
  properties: union(commonProperties, {
    accessTier: 'Hot'
  })
}

resource dataBlobService 'Microsoft.Storage/storageAccounts/blobServices@2025-01-01' = {
  parent: dataAccount
  name: 'default'
  properties: {
    isVersioningEnabled: true
    deleteRetentionPolicy: {
      enabled: true
      days: softDeleteRetentionDays
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: softDeleteRetentionDays
    }
  }
}

resource modelsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = {
  parent: dataBlobService
  name: modelsContainerName
  properties: {
    publicAccess: 'None'
    immutableStorageWithVersioning: {
      enabled: true
    }
  }
}

// Version-level WORM: every blob version written to `models` is immutable for modelRetentionDays
// (blob versioning, on above, is what version-level immutability builds on). Never locked by the hooks, so it is always
// declared: each provision writes it again, which Azure accepts on an unlocked policy.
resource modelsRetention 'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies@2025-01-01' = {
  parent: modelsContainer
  name: 'default'
  properties: {
    immutabilityPeriodSinceCreationInDays: modelRetentionDays
    allowProtectedAppendWrites: false
  }
}

resource auditContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = {
  parent: dataBlobService
  name: auditContainerName
  properties: {
    publicAccess: 'None'
  }
}

// Container-level time-based retention: append blobs can grow, nothing can be rewritten or deleted.
// Unlocked on creation (ARM cannot lock); docs/deploy.md tells how to lock it once validated. Once the hook has locked
// it, it is left out (auditRetentionLocked): Azure allows a locked policy only to be extended, and refuses the PUT of
// every later provision (found in review 2026-12-07); incremental deployments leave the locked policy as it is.
resource auditRetention 'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies@2025-01-01' = if (!auditRetentionLocked) {
  parent: auditContainer
  name: 'default'
  properties: {
    immutabilityPeriodSinceCreationInDays: auditRetentionDays
    allowProtectedAppendWrites: true
  }
}

// The claim check of durable jobs: the gateway writes an item's payload here when it is over 256 KiB (an
// Azure Storage queue message holds at most 64 KiB, and history rows should stay small) and passes the
// blob's name and digest instead. Private, and no immutability policy: payloads must be deletable.
resource jobPayloadsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = {
  parent: dataBlobService
  name: jobPayloadsContainerName
  properties: {
    publicAccess: 'None'
  }
}

// Payloads are request data: kept no longer than jobs are. The rule deletes the current version and, as
// blob versioning is on in this account, every earlier version, a day after jobRetentionDays from when each was
// written: a job's results (readable for jobRetentionDays after it finishes) never outlive the payloads they read.
// Azure runs lifecycle policies about once a day, and soft delete then keeps a deleted blob restorable
// for softDeleteRetentionDays like any other blob of the account. The prefix names the container, so
// `models` and `audit` are never touched.
resource dataLifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2025-01-01' = {
  parent: dataAccount
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'expire-job-payloads'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: ['blockBlob']
              prefixMatch: ['${jobPayloadsContainer.name}/']
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterCreationGreaterThan: jobRetentionDays + 1
                }
              }
              version: {
                delete: {
                  daysAfterCreationGreaterThan: jobRetentionDays + 1
                }
              }
            }
          }
        }
      ]
    }
  }
}

// Shared security state of the apps (Azure Tables on the data account, the table endpoint derived from
// ServerlessServe__Storage__BlobServiceUri). The apps create a missing table at start (CreateIfNotExists), but
// declaring them lets every role be scoped to one table instead of the whole account.
resource dataTableService 'Microsoft.Storage/storageAccounts/tableServices@2025-01-01' = {
  parent: dataAccount
  name: 'default'
}

resource dataTables 'Microsoft.Storage/storageAccounts/tableServices/tables@2025-01-01' = [
  for table in items(tableNames): {
    parent: dataTableService
    name: table.value
  }
]

// The data account holds the audit log and every published model: it cannot be deleted (nor its resource group)
// until this lock is removed, whatever role the deleting principal holds short of lock management.
// docs/deploy.md ("Data protection and audit") tells how to tear down.
resource dataAccountLock 'Microsoft.Authorization/locks@2020-05-01' = {
  name: 'lock-${dataAccountName}-cannot-delete'
  scope: dataAccount
  properties: {
    level: 'CanNotDelete'
    notes: 'Holds the WORM audit log and the published models. Remove this lock deliberately before deleting the account or its resource group.'
  }
}

// Every read, write and delete of blobs (and of table entities on the data account) into the workspace.
var storageLogCategories = [
  { category: 'StorageRead', enabled: true }
  { category: 'StorageWrite', enabled: true }
  { category: 'StorageDelete', enabled: true }
]

resource dataBlobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'diag-data-blob'
  scope: dataBlobService
  properties: {
    workspaceId: logAnalyticsId
    logs: storageLogCategories
  }
}

resource dataTableDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'diag-data-table'
  scope: dataTableService
  properties: {
    workspaceId: logAnalyticsId
    logs: storageLogCategories
  }
}

resource runtimeAccount 'Microsoft.Storage/storageAccounts@2025-01-01' = {
  name: runtimeAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: union(commonProperties, {
    accessTier: 'Hot'
  })
}

resource runtimeBlobService 'Microsoft.Storage/storageAccounts/blobServices@2025-01-01' = {
  parent: runtimeAccount
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: softDeleteRetentionDays
    }
    // A container deleted whole comes back too: Blob Data Contributor lets each app's identity delete containers
    // (role conditions govern data actions only), so a compromised app could otherwise remove the admin app's
    // deployment package or the hosts' lock container for good (found in review 2026-12-07).
    containerDeleteRetentionPolicy: {
      enabled: true
      days: softDeleteRetentionDays
    }
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = {
  parent: runtimeBlobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource adminDeploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = {
  parent: runtimeBlobService
  name: adminDeploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

// The Functions host's lock container (its primary-host lease), declared so that the inference app's identity can be
// given a role on it alone: the inference host keeps no other state in storage (host keys stay in its file system).
resource hostLocksContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = {
  parent: runtimeBlobService
  name: 'azure-webjobs-hosts'
  properties: {
    publicAccess: 'None'
  }
}

// The durable task hub (Azure Storage provider) creates its own queues (control, work items), tables
// (history, instances) and blob containers (leases, large messages) at run time; the services exist so
// that their private endpoints and diagnostics have a target.
resource runtimeQueueService 'Microsoft.Storage/storageAccounts/queueServices@2025-01-01' = {
  parent: runtimeAccount
  name: 'default'
}

resource runtimeTableService 'Microsoft.Storage/storageAccounts/tableServices@2025-01-01' = {
  parent: runtimeAccount
  name: 'default'
}

resource runtimeBlobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'diag-runtime-blob'
  scope: runtimeBlobService
  properties: {
    workspaceId: logAnalyticsId
    logs: storageLogCategories
  }
}

module dataBlobEndpoint 'private-endpoint.bicep' = if (vnetEnabled) {
  name: 'pe-${dataAccountName}-blob'
  params: {
    name: 'pe-${dataAccountName}-blob'
    location: location
    tags: tags
    privateLinkServiceId: dataAccount.id
    groupId: 'blob'
    subnetId: privateEndpointSubnetId
    privateDnsZoneId: blobDnsZoneId
  }
}

// The tables above are reached on the data account's table endpoint: without this endpoint (public access off)
// every table call of the apps would fail.
module dataTableEndpoint 'private-endpoint.bicep' = if (vnetEnabled) {
  name: 'pe-${dataAccountName}-table'
  params: {
    name: 'pe-${dataAccountName}-table'
    location: location
    tags: tags
    privateLinkServiceId: dataAccount.id
    groupId: 'table'
    subnetId: privateEndpointSubnetId
    privateDnsZoneId: tableDnsZoneId
  }
}

module runtimeBlobEndpoint 'private-endpoint.bicep' = if (vnetEnabled) {
  name: 'pe-${runtimeAccountName}-blob'
  params: {
    name: 'pe-${runtimeAccountName}-blob'
    location: location
    tags: tags
    privateLinkServiceId: runtimeAccount.id
    groupId: 'blob'
    subnetId: privateEndpointSubnetId
    privateDnsZoneId: blobDnsZoneId
  }
}

module runtimeQueueEndpoint 'private-endpoint.bicep' = if (vnetEnabled) {
  name: 'pe-${runtimeAccountName}-queue'
  params: {
    name: 'pe-${runtimeAccountName}-queue'
    location: location
    tags: tags
    privateLinkServiceId: runtimeAccount.id
    groupId: 'queue'
    subnetId: privateEndpointSubnetId
    privateDnsZoneId: queueDnsZoneId
  }
}

module runtimeTableEndpoint 'private-endpoint.bicep' = if (vnetEnabled) {
  name: 'pe-${runtimeAccountName}-table'
  params: {
    name: 'pe-${runtimeAccountName}-table'
    location: location
    tags: tags
    privateLinkServiceId: runtimeAccount.id
    groupId: 'table'
    subnetId: privateEndpointSubnetId
    privateDnsZoneId: tableDnsZoneId
  }
}

output dataAccountName string = dataAccount.name
output dataBlobEndpoint string = dataAccount.properties.primaryEndpoints.blob
output dataTableEndpoint string = dataAccount.properties.primaryEndpoints.table
output runtimeAccountName string = runtimeAccount.name
output runtimeBlobEndpoint string = runtimeAccount.properties.primaryEndpoints.blob
output runtimeQueueEndpoint string = runtimeAccount.properties.primaryEndpoints.queue
output runtimeTableEndpoint string = runtimeAccount.properties.primaryEndpoints.table
output modelsContainerName string = modelsContainer.name
output auditContainerName string = auditContainer.name
output jobPayloadsContainerName string = jobPayloadsContainer.name
output deploymentContainerName string = deploymentContainer.name
output hostLocksContainerName string = hostLocksContainer.name
