// A private endpoint for one sub-resource (groupId) of a PaaS resource, registered in its private DNS zone.

param name string
param location string
param tags object

@description('Resource ID of the resource to reach privately.')
param privateLinkServiceId string

@description('Sub-resource: blob, queue, table, vault, ...')
param groupId string

param subnetId string
param privateDnsZoneId string

resource privateEndpoint 'Microsoft.Network/privateEndpoints@2024-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    subnet: {
      id: subnetId
    }
    privateLinkServiceConnections: [
      {
        name: name
        properties: {
          privateLinkServiceId: privateLinkServiceId
          groupIds: [groupId]
        }
      }
    ]
  }
}

resource dnsZoneGroup 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-07-01' = {
  parent: privateEndpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: groupId
        properties: {
          privateDnsZoneId: privateDnsZoneId
        }
      }
    ]
  }
}
