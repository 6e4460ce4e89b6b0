// Container registry for the inference image. The admin user and anonymous pull are off: azd pushes
// with the operator's Entra identity, the inference app pulls with its managed identity (AcrPull).
// Public network access stays on so that `azd deploy` can push from the operator's machine; the
// apps subnet reaches it only through the AzureContainerRegistry service tag.

param name string
param location string
param tags object

@allowed(['Basic', 'Standard', 'Premium'])
param sku string = 'Basic'

resource registry 'Microsoft.ContainerRegistry/registries@2025-04-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: sku
  }
  properties: {
    adminUserEnabled: false
    anonymousPullEnabled: false
    publicNetworkAccess: 'Enabled'
  }
}

output name string = registry.name
output loginServer string = registry.properties.loginServer
