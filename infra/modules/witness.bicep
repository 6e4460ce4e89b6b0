// The audit witness: a storage account of its own that receives a countersigned copy of every signed tree head of
// the audit log (docs/audit.md, "Witness"). It is separate from the data account so that a credential or an
// administrator of the data account cannot rewrite the heads the log is checked against: only the witness identity
// (a user-assigned identity of its own, rbac.bicep) holds a data role here, on the `audit-witness` container alone.
// Like the other accounts it is reached with Entra ID only (shared keys off) and, with the VNet, only through its
// private endpoint. Heads are write-once block blobs: the container's time-based retention policy forbids
// overwriting or deleting them for retentionDays, and allows no appends.

param name string
param location string
param tags object

param vnetEnabled bool
param privateEndpointSubnetId string = ''
param blobDnsZoneId string = ''

@description('Blob container of witness heads.')
param containerName string = 'audit-witness'

@description('Days each witness head stays immutable after creation (the same as the audit log\'s by default).')
@minValue(1)
@maxValue(146000)
param retentionDays int

@description('True once the retention policy is locked (postprovision hook): the policy is then left out, since Azure refuses to create or update a locked policy.')
param retentionLocked bool = false

@description('Log Analytics workspace receiving the blob service logs (every read, write and delete of a head).')
param logAnalyticsId string

@description('Days deleted blobs and containers can be restored.')
@minValue(1)
@maxValue(365)
param softDeleteRetentionDays int = 14

resource account 'Microsoft.Storage/storageAccounts@2025-01-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_ZRS'
  }
  properties: {
    accessTier: 'Hot'
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
      }
    }
  }
}

// No blob versioning: a container-level retention policy does not need it, and a head is never overwritten.
resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-01-01' = {
  parent: account
  name: 'default'
  properties: {
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

resource container 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = {
  parent: blobService
  name: containerName
  properties: {
    publicAccess: 'None'
  }
}

// Container-level time-based retention, as on `audit` but without protected append writes: a head, once written,
// can be neither changed nor deleted. Unlocked on creation (ARM cannot lock a policy); docs/deploy.md tells how to
// lock it once validated, as for `audit`, and once locked it is left out (retentionLocked), as `audit`'s is.
resource retention 'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies@2025-01-01' = if (!retentionLocked) {
  parent: container
  name: 'default'
  properties: {
    immutabilityPeriodSinceCreationInDays: retentionDays
    allowProtectedAppendWrites: false
  }
}

// Like the data account: the heads are evidence, so the account cannot be deleted until this lock is removed.
resource accountLock 'Microsoft.Authorization/locks@2020-05-01' = {
  name: 'lock-${name}-cannot-delete'
  scope: account
  properties: {
    level: 'CanNotDelete'
    notes: 'Holds the audit witness heads. Remove this lock deliberately before deleting the account or its resource group.'
  }
}

resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'diag-witness-blob'
  scope: blobService
  properties: {
    workspaceId: logAnalyticsId
    logs: [
      { category: 'StorageRead', enabled: true }
      { category: 'StorageWrite', enabled: true }
      { category: 'StorageDelete', enabled: true }
    ]
  }
}

module blobEndpoint 'private-endpoint.bicep' = if (vnetEnabled) {
  name: 'pe-${name}-blob'
  params: {
    name: 'pe-${name}-blob'
    location: location
    tags: tags
    privateLinkServiceId: account.id
    groupId: 'blob'
    subnetId: privateEndpointSubnetId
    privateDnsZoneId: blobDnsZoneId
  }
}

output accountName string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output containerName string = container.name
