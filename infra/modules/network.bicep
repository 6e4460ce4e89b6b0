// Virtual network for the platform: one subnet per role, each behind an NSG whose outbound rules allow
// only the Azure service tags the platform needs and end by denying the Internet.

param vnetName string
param location string
param tags object

@description('Address space of the virtual network.')
param addressPrefix string = '10.40.0.0/16'

@description('Gateway (Flex Consumption) VNet integration subnet; delegated to Microsoft.App/environments.')
param gatewaySubnetPrefix string = '10.40.1.0/24'

@description('Container Apps environment subnet (workload profiles need at least a /27).')
param appsSubnetPrefix string = '10.40.2.0/23'

@description('Admin app (Flex Consumption) VNet integration subnet; delegated to Microsoft.App/environments.')
param adminSubnetPrefix string = '10.40.5.0/24'

@description('Private endpoint subnet.')
param privateEndpointSubnetPrefix string = '10.40.4.0/24'

var gatewaySubnetName = 'snet-gateway'
var appsSubnetName = 'snet-apps'
var privateEndpointSubnetName = 'snet-private-endpoints'
var adminSubnetName = 'snet-admin'

// Service tags every app subnet may reach over HTTPS: Entra ID (tokens), Azure Monitor (telemetry),
// Storage in this region (private endpoints cover the data path; the platform also uses the tag).
var commonOutboundRules = [
  {
    name: 'AllowEntraIdOutbound'
    properties: {
      priority: 100
      direction: 'Outbound'
      access: 'Allow'
      protocol: 'Tcp'
      sourceAddressPrefix: 'VirtualNetwork'
      sourcePortRange: '*'
      destinationAddressPrefix: 'AzureActiveDirectory'
      destinationPortRange: '443'
    }
  }
  {
    name: 'AllowAzureMonitorOutbound'
    properties: {
      priority: 110
      direction: 'Outbound'
      access: 'Allow'
      protocol: 'Tcp'
      sourceAddressPrefix: 'VirtualNetwork'
      sourcePortRange: '*'
      destinationAddressPrefix: 'AzureMonitor'
      destinationPortRange: '443'
    }
  }
  {
    name: 'AllowRegionalStorageOutbound'
    properties: {
      priority: 120
      direction: 'Outbound'
      access: 'Allow'
      protocol: 'Tcp'
      sourceAddressPrefix: 'VirtualNetwork'
      sourcePortRange: '*'
      destinationAddressPrefix: 'Storage.${location}'
      destinationPortRange: '443'
    }
  }
]

// The Container Apps platform pulls its own system images from MCR (served through Front Door) and
// the inference image from the registry.
var appsOutboundRules = [
  {
    name: 'AllowContainerRegistryOutbound'
    properties: {
      priority: 130
      direction: 'Outbound'
      access: 'Allow'
      protocol: 'Tcp'
      sourceAddressPrefix: 'VirtualNetwork'
      sourcePortRange: '*'
      destinationAddressPrefix: 'AzureContainerRegistry'
      destinationPortRange: '443'
    }
  }
  {
    name: 'AllowMicrosoftContainerRegistryOutbound'
    properties: {
      priority: 140
      direction: 'Outbound'
      access: 'Allow'
      protocol: 'Tcp'
      sourceAddressPrefix: 'VirtualNetwork'
      sourcePortRange: '*'
      destinationAddressPrefix: 'MicrosoftContainerRegistry'
      destinationPortRange: '443'
    }
  }
  {
    name: 'AllowMcrFrontDoorOutbound'
    properties: {
      priority: 150
      direction: 'Outbound'
      access: 'Allow'
      protocol: 'Tcp'
      sourceAddressPrefix: 'VirtualNetwork'
      sourcePortRange: '*'
      destinationAddressPrefix: 'AzureFrontDoor.FirstParty'
      destinationPortRange: '443'
    }
  }
]

// Always the last outbound rule: whatever was not allowed above does not leave for the Internet.
var denyInternetOutbound = {
  name: 'DenyInternetOutbound'
  properties: {
    priority: 4096
    direction: 'Outbound'
    access: 'Deny'
    protocol: '*'
    sourceAddressPrefix: '*'
    sourcePortRange: '*'
    destinationAddressPrefix: 'Internet'
    destinationPortRange: '*'
  }
}

resource gatewayNsg 'Microsoft.Network/networkSecurityGroups@2024-07-01' = {
  name: 'nsg-${vnetName}-gateway'
  location: location
  tags: tags
  properties: {
    securityRules: concat(commonOutboundRules, [denyInternetOutbound])
  }
}

resource appsNsg 'Microsoft.Network/networkSecurityGroups@2024-07-01' = {
  name: 'nsg-${vnetName}-apps'
  location: location
  tags: tags
  properties: {
    securityRules: concat(commonOutboundRules, appsOutboundRules, [denyInternetOutbound])
  }
}

resource privateEndpointNsg 'Microsoft.Network/networkSecurityGroups@2024-07-01' = {
  name: 'nsg-${vnetName}-private-endpoints'
  location: location
  tags: tags
  properties: {
    securityRules: [denyInternetOutbound]
  }
}

resource vnet 'Microsoft.Network/virtualNetworks@2024-07-01' = {
  name: vnetName
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [addressPrefix]
    }
    subnets: [
      {
        name: gatewaySubnetName
        properties: {
          addressPrefix: gatewaySubnetPrefix
          networkSecurityGroup: {
            id: gatewayNsg.id
          }
          // Flex Consumption VNet integration requires this delegation.
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
          defaultOutboundAccess: false
        }
      }
      {
        // The admin app's outbound traffic: the gateway's NSG (Entra ID, monitoring, the VNet; no Internet).
        name: adminSubnetName
        properties: {
          addressPrefix: adminSubnetPrefix
          networkSecurityGroup: {
            id: gatewayNsg.id
          }
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
          defaultOutboundAccess: false
        }
      }
      {
        name: appsSubnetName
        properties: {
          addressPrefix: appsSubnetPrefix
          networkSecurityGroup: {
            id: appsNsg.id
          }
          delegations: [
            {
              name: 'container-apps'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
          defaultOutboundAccess: false
        }
      }
      {
        name: privateEndpointSubnetName
        properties: {
          addressPrefix: privateEndpointSubnetPrefix
          networkSecurityGroup: {
            id: privateEndpointNsg.id
          }
          privateEndpointNetworkPolicies: 'Enabled'
          defaultOutboundAccess: false
        }
      }
    ]
  }
}

// Private DNS zones for the private endpoints, all linked to the VNet. Names come from the cloud's
// own suffixes so that the template also works outside the public cloud.
var privateDnsZoneNames = {
  blob: 'privatelink.blob.${environment().suffixes.storage}'
  queue: 'privatelink.queue.${environment().suffixes.storage}'
  table: 'privatelink.table.${environment().suffixes.storage}'
  vault: 'privatelink${replace(environment().suffixes.keyvaultDns, '.vault.', '.vaultcore.')}'
  // Function Apps reached through a private endpoint (the admin app).
  web: 'privatelink.azurewebsites.net'
}

resource privateDnsZones 'Microsoft.Network/privateDnsZones@2024-06-01' = [
  for zone in items(privateDnsZoneNames): {
    name: zone.value
    location: 'global'
    tags: tags
  }
]

resource privateDnsZoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [
  for (zone, i) in items(privateDnsZoneNames): {
    parent: privateDnsZones[i]
    name: '${vnetName}-link'
    location: 'global'
    tags: tags
    properties: {
      registrationEnabled: false
      virtualNetwork: {
        id: vnet.id
      }
    }
  }
]

output vnetId string = vnet.id
output gatewaySubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, gatewaySubnetName)
output appsSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, appsSubnetName)
output adminSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, adminSubnetName)
output gatewaySubnetPrefix string = gatewaySubnetPrefix
output adminSubnetPrefix string = adminSubnetPrefix
output privateEndpointSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, privateEndpointSubnetName)
// items() sorts by key: blob, queue, table, vault, web.
output blobDnsZoneId string = privateDnsZones[0].id
output queueDnsZoneId string = privateDnsZones[1].id
output tableDnsZoneId string = privateDnsZones[2].id
output vaultDnsZoneId string = privateDnsZones[3].id
output webDnsZoneId string = privateDnsZones[4].id
