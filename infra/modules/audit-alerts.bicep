// An activity-log alert on every change to a retention (immutability) policy of a blob container in this resource
// group: written, deleted, locked or extended. Those are the operations that could shorten how long audit records,
// witness heads or model versions stay immutable (or, for lock and extend, make a policy permanent): each should be a
// deliberate, announced act. The removal of a management lock (the accounts' CanNotDelete locks) alerts too.
// With an e-mail address the alert notifies an action group; without one it only fires (visible in the portal and
// in the activity log), which still leaves a record.

param name string
param tags object

@description('Where the alert is sent; empty: the alert fires without an action group.')
param email string = ''

var watchedOperations = [
  'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies/write'
  'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies/delete'
  'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies/lock/action'
  'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies/extend/action'
  'Microsoft.Authorization/locks/delete'
]
var watchedConditions = [
  for operation in watchedOperations: {
    field: 'operationName'
    equals: operation
  }
]

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(email)) {
  name: 'ag-${name}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'ssaudit'
    enabled: true
    emailReceivers: [
      {
        name: 'audit-owner'
        emailAddress: email
        useCommonAlertSchema: true
      }
    ]
  }
}

resource alert 'Microsoft.Insights/activityLogAlerts@2020-10-01' = {
  name: name
  location: 'global'
  tags: tags
  properties: {
    enabled: true
    description: 'A blob container retention (immutability) policy or a management lock was changed in this resource group.'
    scopes: [
      resourceGroup().id
    ]
    condition: {
      allOf: [
        {
          field: 'category'
          equals: 'Administrative'
        }
        {
          anyOf: watchedConditions
        }
      ]
    }
    actions: {
      actionGroups: empty(email) ? [] : [
        {
          actionGroupId: actionGroup.id
        }
      ]
    }
  }
}

output alertName string = alert.name
