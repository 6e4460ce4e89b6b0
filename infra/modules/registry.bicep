// Container registry for the inference image. The admin user and anonymous pull are off: azd pushes
// with the operator's Entra identity, the inference app pulls with its managed identity (AcrPull).
// With the VNet the registry has a private endpoint (login server and data endpoint) in the privatelink.azurecr.io
// zone, so the Container Apps subnet pulls our image inside the VNet and its NSG needs no AzureContainerRegistry (or
// Storage) tag. Private endpoints need the Premium SKU: with the VNet the SKU is Premium whatever `sku` says.
// Public network access stays on so that `azd deploy` can push from the operator's machine (Entra ID only).

param name string
param location string
param tags object

@allowed(['Basic', 'Standard', 'Premium'])
@description('SKU without the VNet. With the VNet: Premium (private endpoints need it).')
param sku string = 'Basic'

param vnetEnabled bool = false
param privateEndpointSubnetId string = ''
param acrDnsZoneId string = ''

resource registry 'Microsoft.ContainerRegistry/registries@2025-04-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: vnetEnabled ? 'Premium' : sku
  }
  properties: {
    adminUserEnabled: false
    anonymousPullEnabled: false
    publicNetworkAccess: 'Enabled'
  }
}

module registryEndpoint 'private-endpoint.bicep' = if (vnetEnabled) {
  name: 'pe-${name}-registry'
  params: {
    name: 'pe-${name}-registry'
    location: location
    tags: tags
    privateLinkServiceId: registry.id
    groupId: 'registry'
    subnetId: privateEndpointSubnetId
    privateDnsZoneId: acrDnsZoneId
  }
}

output name string = registry.name
output loginServer string = registry.properties.loginServer
