// Key Vault for the platform's secrets (audit pseudonymisation key, audit checkpoint signing key,
// service-token signing key). Access is by Azure RBAC only, purge protection is on, and with the VNet
// the vault is reachable only through its private endpoint. Secrets given as parameters are written
// through the control plane (ARM), which works with public access off; empty parameters leave existing
// secret versions untouched.

param name string
param location string
param tags object

param vnetEnabled bool
param privateEndpointSubnetId string = ''
param vaultDnsZoneId string = ''

@description('Days a deleted vault or secret can be recovered (and must wait before purge).')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 90

@description('Log Analytics workspace receiving the vault\'s audit log (AuditEvent: every secret read and change).')
param logAnalyticsId string

@description('Secrets to create or rotate: name -> value. Empty values are skipped.')
@secure()
param secrets object = {}

@description('Content type of each secret: name -> MIME type. Unlisted secrets are plain text.')
param contentTypes object = {}

@description('recover: bring back this vault, left soft-deleted by `azd down` (purge protection keeps it for its retention days), instead of failing on its name. Set by the preprovision hook.')
@allowed(['default', 'recover'])
param createMode string = 'default'

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    createMode: createMode
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enablePurgeProtection: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: vnetEnabled ? 'Disabled' : 'Enabled'
    networkAcls: {
      bypass: 'None'
      defaultAction: vnetEnabled ? 'Deny' : 'Allow'
    }
  }
}

resource secretVersions 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = [
  for secret in items(secrets): if (!empty(secret.value)) {
    parent: vault
    name: secret.key
    properties: {
      value: secret.value
      contentType: contentTypes[?secret.key] ?? 'text/plain'
    }
  }
]

resource vaultDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'diag-vault'
  scope: vault
  properties: {
    workspaceId: logAnalyticsId
    logs: [
      { category: 'AuditEvent', enabled: true }
    ]
  }
}

module vaultEndpoint 'private-endpoint.bicep' = if (vnetEnabled) {
  name: 'pe-${name}-vault'
  params: {
    name: 'pe-${name}-vault'
    location: location
    tags: tags
    privateLinkServiceId: vault.id
    groupId: 'vault'
    subnetId: privateEndpointSubnetId
    privateDnsZoneId: vaultDnsZoneId
  }
}

output name string = vault.name
output uri string = vault.properties.vaultUri
