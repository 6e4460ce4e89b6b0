// Two storage accounts, both reachable only with Entra ID (shared keys off) and, with the VNet, only
// through private endpoints:
// - data: `models` (version-level WORM: a published artifact can never change) and `audit`
//   (time-based retention with protected append writes: records can be appended, never rewritten);
// - runtime: the gateway's deployment package, the Functions host state and the durable task hub
//   (queues, tables, leases). Keeping them apart lets the gateway write its runtime state without any
//   write access to the data account beyond appending audit records.

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

param modelsContainerName string = 'models'
param auditContainerName string = 'audit'

@description('Days an audit blob stays immutable after creation.')
@minValue(1)
@maxValue(146000)
param auditRetentionDays int

@description('Days each model version stays immutable after it is written.')
@minValue(1)
@maxValue(146000)
param modelRetentionDays int

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
// (blob versioning, on above, is what version-level immutability builds on).
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
// Unlocked on creation (ARM cannot lock); docs/deploy.md tells how to lock it once validated.
resource auditRetention 'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies@2025-01-01' = {
  parent: auditContainer
  name: 'default'
  properties: {
    immutabilityPeriodSinceCreationInDays: auditRetentionDays
    allowProtectedAppendWrites: true
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
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = {
  parent: runtimeBlobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

// The durable task hub creates its own queues and tables; the services exist so that their
// private endpoints and diagnostics have a target.
resource runtimeQueueService 'Microsoft.Storage/storageAccounts/queueServices@2025-01-01' = {
  parent: runtimeAccount
  name: 'default'
}

resource runtimeTableService 'Microsoft.Storage/storageAccounts/tableServices@2025-01-01' = {
  parent: runtimeAccount
  name: 'default'
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
output runtimeAccountName string = runtimeAccount.name
output runtimeBlobEndpoint string = runtimeAccount.properties.primaryEndpoints.blob
output runtimeQueueEndpoint string = runtimeAccount.properties.primaryEndpoints.queue
output runtimeTableEndpoint string = runtimeAccount.properties.primaryEndpoints.table
output modelsContainerName string = modelsContainer.name
output auditContainerName string = auditContainer.name
output deploymentContainerName string = deploymentContainer.name
