// Virtual network for the platform: one subnet per role, each behind an NSG whose outbound rules allow
// only the Azure service tags the platform needs and end by denying the Internet. egressMode firewall adds Azure
// Firewall (firewall.bicep) as the app subnets' default route, allowing HTTPS to named hosts only. Private DNS zones
// for the private endpoints are created and linked here unless a hub's are given (privateDnsZoneIds).

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

@description('AzureFirewallSubnet (egressMode firewall): Azure Firewall needs a /26.')
param firewallSubnetPrefix string = '10.40.6.0/26'

@description('nsg: service tags on the NSGs. firewall: also Azure Firewall, with 0.0.0.0/0 from the app subnets routed to it and application rules per host name (docs/deploy.md, "Egress").')
@allowed(['nsg', 'firewall'])
param egressMode string = 'nsg'

@description('Log Analytics workspace for the firewall\'s logs (egress mode firewall).')
param logAnalyticsId string

@description('Firewall mode: host names (FQDNs, a leading *. allowed) each app subnet may reach over HTTPS, by collection: apps (all app subnets: the apps\' own allow-list), functions (the Flex subnets), containerApps (the Container Apps subnet).')
param firewallTargetFqdns object = {
  apps: []
  functions: []
  containerApps: []
}

@description('Existing private DNS zones (e.g. a hub\'s) by key: blob, queue, table, vault, web, acr. A zone given here is used as is (its VNet links are the hub\'s business); the others are created here and linked to the VNet.')
param privateDnsZoneIds object = {}

var gatewaySubnetName = 'snet-gateway'
var appsSubnetName = 'snet-apps'
var privateEndpointSubnetName = 'snet-private-endpoints'
var adminSubnetName = 'snet-admin'
var firewallEnabled = egressMode == 'firewall'
// Azure Firewall's private address: Azure gives it the first address a resource can get in AzureFirewallSubnet (Azure
// keeps .0 to .3 of every subnet, and cidrHost's index 0 is .1), so the route below can name it before the firewall
// exists. firewall.bicep outputs the address Azure actually gave it (privateIpAddress).
var firewallPrivateIp = cidrHost(firewallSubnetPrefix, 3)

// Outbound rules, first match by priority (docs/deploy.md, "Egress"). Each rule names the platform or app
// dependency it exists for; whatever none of them allows meets DenyInternetOutbound (4096). Traffic inside the VNet
// (private endpoints, the Container Apps environment's internal load balancer) is Azure's AllowVnetOutBound (65000).
// Azure DNS (168.63.129.16) and IMDS (169.254.169.254) are not subject to NSG rules.

// Every app subnet: Entra ID (managed identity and caller tokens: the token endpoints and the issuers' key sets) and
// Azure Monitor (Application Insights with Entra auth; the Container Apps environment's logs).
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
]

// The Flex Consumption apps (gateway and admin): a deployment and the trigger sync call the app's own
// *.azurewebsites.net (and scm) endpoint, which routes through the integration subnet (all traffic routed). Only this
// region's App Service addresses, only HTTPS, only from the two Flex subnets. Storage (the deployment package, host
// storage, data, witness) is reached through private endpoints: no Storage tag.
var functionsOutboundRules = [
  {
    name: 'AllowOwnAppServiceOutbound'
    properties: {
      priority: 120
      direction: 'Outbound'
      access: 'Allow'
      protocol: 'Tcp'
      sourceAddressPrefixes: [gatewaySubnetPrefix, adminSubnetPrefix]
      sourcePortRange: '*'
      destinationAddressPrefix: 'AppService.${location}'
      destinationPortRange: '443'
    }
  }
]

// The Container Apps environment (workload profiles), per the Container Apps NSG guidance: the platform pulls its own
// system images from MCR, which serves them through Front Door (AzureFrontDoor.FirstParty). The inference image comes
// from our registry through its private endpoint (registry.bicep), so neither AzureContainerRegistry nor the regional
// Storage tag (ACR's data without a private endpoint) is allowed. Traffic between the environment's own addresses is
// inside the VNet (AllowVnetOutBound).
var appsOutboundRules = [
  {
    name: 'AllowMicrosoftContainerRegistryOutbound'
    properties: {
      priority: 130
      direction: 'Outbound'
      access: 'Allow'
      protocol: 'Tcp'
      sourceAddressPrefix: appsSubnetPrefix
      sourcePortRange: '*'
      destinationAddressPrefix: 'MicrosoftContainerRegistry'
      destinationPortRange: '443'
    }
  }
  {
    name: 'AllowMcrFrontDoorOutbound'
    properties: {
      priority: 140
      direction: 'Outbound'
      access: 'Allow'
      protocol: 'Tcp'
      sourceAddressPrefix: appsSubnetPrefix
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

// The two Flex Consumption subnets (gateway, admin) share one NSG.
resource functionsNsg 'Microsoft.Network/networkSecurityGroups@2024-07-01' = {
  name: 'nsg-${vnetName}-functions'
  location: location
  tags: tags
  properties: {
    securityRules: concat(commonOutboundRules, functionsOutboundRules, [denyInternetOutbound])
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
    subnets: concat([
      {
        name: gatewaySubnetName
        properties: {
          addressPrefix: gatewaySubnetPrefix
          networkSecurityGroup: {
            id: functionsNsg.id
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
          routeTable: firewallEnabled ? { id: egressRoutes.id } : null
          defaultOutboundAccess: false
        }
      }
      {
        // The admin app's outbound traffic: the Flex NSG (Entra ID, monitoring, its own App Service endpoint; no Internet).
        name: adminSubnetName
        properties: {
          addressPrefix: adminSubnetPrefix
          networkSecurityGroup: {
            id: functionsNsg.id
          }
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
          routeTable: firewallEnabled ? { id: egressRoutes.id } : null
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
          routeTable: firewallEnabled ? { id: egressRoutes.id } : null
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
    ], firewallEnabled ? [
      {
        // Azure Firewall's own subnet: this exact name, no NSG, no route table.
        name: 'AzureFirewallSubnet'
        properties: {
          addressPrefix: firewallSubnetPrefix
        }
      }
    ] : [])
  }
}

// Firewall mode: the app subnets' default route, 0.0.0.0/0 → the firewall's private IP. Routes to the VNet stay more
// specific, so private endpoints and the Container Apps environment are still reached directly. The route is declared
// here, in the table, because a route table is sent whole: before 2026-12-07 the firewall module added it as a child
// resource, and every re-provision sent this table without routes, which deleted the route until that module put it
// back, leaving the app subnets' egress around the firewall meanwhile (found in review).
resource egressRoutes 'Microsoft.Network/routeTables@2024-07-01' = if (firewallEnabled) {
  name: 'rt-${vnetName}-egress'
  location: location
  tags: tags
  properties: {
    disableBgpRoutePropagation: true
    routes: [
      {
        name: 'default-via-firewall'
        properties: {
          addressPrefix: '0.0.0.0/0'
          nextHopType: 'VirtualAppliance'
          nextHopIpAddress: firewallPrivateIp
        }
      }
    ]
  }
}

module firewall 'firewall.bicep' = if (firewallEnabled) {
  name: 'firewall'
  params: {
    name: 'afw-${vnetName}'
    location: location
    tags: tags
    subnetId: resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, 'AzureFirewallSubnet')
    logAnalyticsId: logAnalyticsId
    targetFqdns: firewallTargetFqdns
    sourcePrefixes: {
      apps: [gatewaySubnetPrefix, adminSubnetPrefix, appsSubnetPrefix]
      functions: [gatewaySubnetPrefix, adminSubnetPrefix]
      containerApps: [appsSubnetPrefix]
    }
  }
}

// Private DNS zones for the private endpoints. Names come from the cloud's own suffixes so that the template also
// works outside the public cloud. A zone whose ID is given in privateDnsZoneIds (a hub's) is neither created nor linked.
var privateDnsZoneNames = {
  // Container registry (registry.bicep): login server and data endpoints.
  acr: 'privatelink${environment().suffixes.acrLoginServer}'
  blob: 'privatelink.blob.${environment().suffixes.storage}'
  queue: 'privatelink.queue.${environment().suffixes.storage}'
  table: 'privatelink.table.${environment().suffixes.storage}'
  vault: 'privatelink${replace(environment().suffixes.keyvaultDns, '.vault.', '.vaultcore.')}'
  // Function Apps reached through a private endpoint (the admin app).
  web: 'privatelink.azurewebsites.net'
}

var givenZoneIds = {
  acr: privateDnsZoneIds.?acr ?? ''
  blob: privateDnsZoneIds.?blob ?? ''
  queue: privateDnsZoneIds.?queue ?? ''
  table: privateDnsZoneIds.?table ?? ''
  vault: privateDnsZoneIds.?vault ?? ''
  web: privateDnsZoneIds.?web ?? ''
}

resource privateDnsZones 'Microsoft.Network/privateDnsZones@2024-06-01' = [
  for zone in items(privateDnsZoneNames): if (empty(givenZoneIds[zone.key])) {
    name: zone.value
    location: 'global'
    tags: tags
  }
]

resource privateDnsZoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [
  for (zone, i) in items(privateDnsZoneNames): if (empty(givenZoneIds[zone.key])) {
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
// A given zone, else the one created here. items() sorts by key: acr, blob, queue, table, vault, web.
output acrDnsZoneId string = empty(givenZoneIds.acr) ? privateDnsZones[0].id : givenZoneIds.acr
output blobDnsZoneId string = empty(givenZoneIds.blob) ? privateDnsZones[1].id : givenZoneIds.blob
output queueDnsZoneId string = empty(givenZoneIds.queue) ? privateDnsZones[2].id : givenZoneIds.queue
output tableDnsZoneId string = empty(givenZoneIds.table) ? privateDnsZones[3].id : givenZoneIds.table
output vaultDnsZoneId string = empty(givenZoneIds.vault) ? privateDnsZones[4].id : givenZoneIds.vault
output webDnsZoneId string = empty(givenZoneIds.web) ? privateDnsZones[5].id : givenZoneIds.web
