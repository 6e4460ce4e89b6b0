// Log Analytics + workspace-based Application Insights. Local (key) authentication is off on both:
// telemetry is accepted only with an Entra token (APPLICATIONINSIGHTS_AUTHENTICATION_STRING in the apps).

@description('Log Analytics workspace name.')
param logAnalyticsName string

@description('Application Insights component name.')
param applicationInsightsName string

param location string
param tags object

@description('Days of log retention (30 is the free allowance).')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2025-02-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
    features: {
      disableLocalAuth: true
      enableLogAccessUsingOnlyResourcePermissions: true
    }
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    DisableLocalAuth: true
    DisableIpMasking: false
  }
}

output logAnalyticsId string = logAnalytics.id
output applicationInsightsName string = applicationInsights.name
// An instrumentation connection string identifies the component; with local auth off it grants nothing.
output applicationInsightsConnectionString string = applicationInsights.properties.ConnectionString
