// The publish path that works with the VNet on: a manually triggered Container Apps job in the inference environment,
// so inside the VNet, that runs `ssctl model publish-packages` on the signed packages baked into its image and uploads
// them to `models` through the data account's private endpoint. Its identity may write `models` and pull images, and
// nothing else. The job holds no signing key: the packages were signed on the operator's machine, and the job verifies
// each against the signer's public key before uploading it (docs/deploy.md, "Publishing models").

param name string
param location string
param tags object
param environmentId string
param identityId string
param identityClientId string
param registryLoginServer string

@description('Publisher image; empty until the postprovision hook has built one (the job is not started before).')
param imageName string = ''

param dataBlobEndpoint string

@description('PEM public key of the model signer: the only key the job trusts. Empty: the job refuses every package.')
param modelSignerPublicKeyPem string

// A public sample image, never started: the hook sets the real image before it starts the job.
var placeholderImage = 'mcr.microsoft.com/k8se/quickstart-jobs:latest'

resource job 'Microsoft.App/jobs@2025-07-01' = {
  name: name
  location: location
  tags: union(tags, { 'serverlessserve-role': 'publisher' })
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    environmentId: environmentId
    workloadProfileName: 'Consumption'
    configuration: {
      triggerType: 'Manual'
      replicaTimeout: 1800
      replicaRetryLimit: 0
      manualTriggerConfig: {
        parallelism: 1
        replicaCompletionCount: 1
      }
      registries: [
        {
          server: registryLoginServer
          identity: identityId
        }
      ]
    }
    template: {
      containers: [
        {
          name: 'publish'
          image: empty(imageName) ? placeholderImage : imageName
          args: [
            'model'
            'publish-packages'
            '/packages'
            '--blob-uri'
            dataBlobEndpoint
            '--trusted-key-pem'
            modelSignerPublicKeyPem
          ]
          env: [
            { name: 'AZURE_CLIENT_ID', value: identityClientId }
          ]
          resources: {
            cpu: json('0.5')
            memory: '1Gi'
          }
        }
      ]
    }
  }
}

output name string = job.name
