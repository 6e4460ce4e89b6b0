// Egress mode `firewall` (docs/deploy.md, "Egress"): Azure Firewall (Standard) in the VNet's AzureFirewallSubnet and a
// policy that allows HTTPS to named hosts only. The app subnets' default route to it is declared in network.bicep's
// route table, to the address Azure gives the firewall in its subnet. The host names come from main.bicep (the apps'
// own allow-list, infra/egress.json, and the platforms' needs); nothing else leaves: an application rule that matches
// nothing falls through to the firewall's implicit deny.

param name string
param location string
param tags object

@description('Resource ID of the VNet\'s AzureFirewallSubnet.')
param subnetId string

@description('Host names allowed over HTTPS, by collection (apps, functions, containerApps).')
param targetFqdns object

@description('Source address prefixes of each collection (the same keys as targetFqdns).')
param sourcePrefixes object

@description('Log Analytics workspace the firewall\'s logs go to (every rule it applied, the denials included).')
param logAnalyticsId string

resource publicIp 'Microsoft.Network/publicIPAddresses@2024-07-01' = {
  name: 'pip-${name}'
  location: location
  tags: tags
  sku: {
    name: 'Standard'
  }
  properties: {
    publicIPAllocationMethod: 'Static'
  }
}

resource policy 'Microsoft.Network/firewallPolicies@2024-07-01' = {
  name: 'afwp-${name}'
  location: location
  tags: tags
  properties: {
    sku: {
      tier: 'Standard'
    }
    // Known-malicious addresses and domains are refused even when a rule would allow them.
    threatIntelMode: 'Deny'
  }
}

// One application rule collection per source: HTTPS (443) to the listed host names, nothing else.
var ruleCollections = [
  for (collection, i) in items(targetFqdns): {
    ruleCollectionType: 'FirewallPolicyFilterRuleCollection'
    name: collection.key
    priority: 200 + i * 10
    action: {
      type: 'Allow'
    }
    rules: [
      {
        ruleType: 'ApplicationRule'
        name: '${collection.key}-https'
        sourceAddresses: sourcePrefixes[collection.key]
        protocols: [
          {
            protocolType: 'Https'
            port: 443
          }
        ]
        targetFqdns: collection.value
      }
    ]
  }
]

resource egressRules 'Microsoft.Network/firewallPolicies/ruleCollectionGroups@2024-07-01' = {
  parent: policy
  name: 'egress'
  properties: {
    priority: 200
    ruleCollections: ruleCollections
  }
}

resource firewall 'Microsoft.Network/azureFirewalls@2024-07-01' = {
  name: name
  location: location
  tags: tags
  dependsOn: [egressRules]
  properties: {
    sku: {
      name: 'AZFW_VNet'
      tier: 'Standard'
    }
    firewallPolicy: {
      id: policy.id
    }
    ipConfigurations: [
      {
        name: 'ipconfig'
        properties: {
          subnet: {
            id: subnetId
          }
          publicIPAddress: {
            id: publicIp.id
          }
        }
      }
    ]
  }
}

// What the firewall allowed and denied, in resource-specific tables: where an operator finds a refused host or an
// attempt to send data elsewhere (docs/deploy.md, "Egress"). Before 2026-12-07 the firewall logged nowhere, though the
// docs sent operators to its logs (found in review).
resource firewallLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'diag-firewall'
  scope: firewall
  properties: {
    workspaceId: logAnalyticsId
    logAnalyticsDestinationType: 'Dedicated'
    logs: [
      { categoryGroup: 'allLogs', enabled: true }
    ]
  }
}

output privateIpAddress string = firewall.properties.ipConfigurations[0].properties.privateIPAddress
