// Safeguard Desk on Azure (docs/deploy.md): one resource group per environment.
//
//   Azure Bot (single tenant) ──► Web App for Containers, ≥ 2 instances (Linux, VNet-integrated)
//                                   │  app settings: Key Vault references (user-assigned identity)
//                                   │  /mnt/directory: Azure Files share with the directory JSON
//                                   ▼
//                                 PostgreSQL Flexible Server, private access only (delegated subnet,
//                                 private DNS zone), TLS required
//   Key Vault (RBAC): bot app password, database URL, field-encryption keys, download-link secret
//   Container Registry (the image), Log Analytics + Application Insights (logs, metrics)
//
// Deployed by `m365agents.yml` (arm/deploy, parameters from infra/main.parameters.json) or by hand:
//   az deployment group create -g <group> -f infra/main.bicep -p environmentName=prod botAppId=… (docs/deploy.md)

targetScope = 'resourceGroup'

// ───────────────────────────── parameters ─────────────────────────────

@description('Environment name (dev, test, prod): part of every resource name.')
@minLength(2)
@maxLength(8)
param environmentName string

@description('Short name for this deployment (lower-case letters and digits): part of every resource name.')
@minLength(2)
@maxLength(6)
param baseName string = 'sgd'

@description('Azure region for everything except the bot registration.')
param location string = resourceGroup().location

@description('Where the Azure Bot keeps its data: global, or a regional registration (westeurope keeps it in the EU).')
@allowed([
  'global'
  'westeurope'
  'centralindia'
])
param botLocation string = 'global'

@description('Microsoft Entra tenant of the bot\'s app registration (the Microsoft 365 tenant whose people use the bot).')
param botTenantId string = tenant().tenantId

@description('Application (client) id of the bot\'s single-tenant Entra app registration.')
@minLength(36)
@maxLength(36)
param botAppId string

@description('Client secret of that app registration. Stored in Key Vault; the app reads it through a Key Vault reference.')
@secure()
@minLength(1)
param botAppPassword string

@description('Display name of the bot in Azure.')
@maxLength(42)
param botDisplayName string = 'Safeguard Desk'

@description('Azure Bot pricing tier: Teams is a standard channel, free on F0.')
@allowed([
  'F0'
  'S1'
])
param botSku string = 'F0'

@description('Container image name in this environment\'s registry.')
param imageName string = 'safeguard-desk'

@description('Image tag to run. The deploy stage builds and pushes it, then points the app at it.')
param imageTag string = 'latest'

@description('App Service plan size (Linux). P0v3 or larger: VNet integration, health check, always-on.')
param appServicePlanSku string = 'P1v3'

@description('Instances of the web app. INSTANCES is set to the same number: each instance takes 1/N of Teams\' per-app rate limit.')
@minValue(2)
@maxValue(30)
param instanceCount int = 2

@description('The origin users reach the service on (https://desk.example.org) when a custom domain is bound; empty: the web app\'s own https address.')
param publicUrl string = ''

@description('PostgreSQL administrator login (the app connects as this role).')
param postgresAdminLogin string = 'sgdadmin'

@description('PostgreSQL administrator password (8–128 characters, three of: upper case, lower case, digits, symbols).')
@secure()
@minLength(12)
param postgresAdminPassword string

@description('PostgreSQL compute size.')
param postgresSkuName string = 'Standard_D2ds_v5'

@description('PostgreSQL tier, matching the compute size.')
@allowed([
  'Burstable'
  'GeneralPurpose'
  'MemoryOptimized'
])
param postgresSkuTier string = 'GeneralPurpose'

@description('PostgreSQL major version.')
param postgresVersion string = '16'

@description('PostgreSQL storage in GB (grows automatically).')
param postgresStorageSizeGB int = 32

@description('Days of point-in-time restore (7–35).')
@minValue(7)
@maxValue(35)
param postgresBackupRetentionDays int = 35

@description('Geo-redundant backups (only in regions with a pair; cannot be changed after the server is created).')
@allowed([
  'Enabled'
  'Disabled'
])
param postgresGeoRedundantBackup string = 'Disabled'

@description('A standby server: ZoneRedundant (another availability zone), SameZone, or Disabled.')
@allowed([
  'Disabled'
  'ZoneRedundant'
  'SameZone'
])
param postgresHighAvailability string = 'Disabled'

@description('Base64 of the field-encryption key map, JSON {"<key id>": "<base64 of 32 random bytes>", …}. Base64 so that it passes through .env files and the toolkit\'s text substitution unchanged; stored decoded in Key Vault as FIELD_ENCRYPTION_KEYS.')
@secure()
@minLength(1)
param fieldEncryptionKeysBase64 string

@description('The key id in that map that encrypts new data (FIELD_ENCRYPTION_CURRENT_KEY_ID).')
@minLength(1)
param fieldEncryptionCurrentKeyId string

@description('Secret that signs download links (DOWNLOAD_LINK_SECRET, 32 characters or more); every instance gets the same one.')
@secure()
@minLength(32)
param downloadLinkSecret string

@description('Days Log Analytics keeps logs.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 90

@description('Address space of the virtual network.')
param vnetAddressPrefix string = '10.40.0.0/16'

@description('Subnet for the web app\'s VNet integration (/26 or larger leaves room to scale out).')
param appSubnetPrefix string = '10.40.1.0/26'

@description('Subnet delegated to PostgreSQL Flexible Server.')
param postgresSubnetPrefix string = '10.40.2.0/28'

// ───────────────────────────── names ─────────────────────────────

var suffix = uniqueString(resourceGroup().id, environmentName)
var prefix = '${baseName}-${environmentName}'
var compactBase = toLower(replace(baseName, '-', ''))
var names = {
  identity: '${prefix}-id'
  workspace: '${prefix}-logs'
  insights: '${prefix}-insights'
  vnet: '${prefix}-vnet'
  plan: '${prefix}-plan'
  site: '${prefix}-${suffix}'
  bot: '${prefix}-bot-${suffix}'
  postgres: '${prefix}-pg-${suffix}'
  keyVault: take('kv-${compactBase}-${suffix}', 24)
  registry: take('acr${compactBase}${suffix}', 50)
  storage: take('st${compactBase}${suffix}', 24)
}
var databaseName = 'safeguard_desk'
var directoryShareName = 'directory'
var directoryMountPath = '/mnt/directory'
var appPort = '3978'

// Built-in role definition ids.
var roles = {
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d'
}

// ───────────────────────────── monitoring ─────────────────────────────

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: names.workspace
  location: location
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: logRetentionDays
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: names.insights
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    IngestionMode: 'LogAnalytics'
  }
}

// ───────────────────────────── identity ─────────────────────────────

// The web app's identity: reads Key Vault secrets (app settings) and pulls the image.
resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: names.identity
  location: location
}

// ───────────────────────────── network ─────────────────────────────

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: names.vnet
  location: location
  properties: {
    addressSpace: {
      addressPrefixes: [
        vnetAddressPrefix
      ]
    }
    subnets: [
      {
        name: 'app'
        properties: {
          addressPrefix: appSubnetPrefix
          delegations: [
            {
              name: 'web-server-farms'
              properties: {
                serviceName: 'Microsoft.Web/serverFarms'
              }
            }
          ]
        }
      }
      {
        name: 'postgres'
        properties: {
          addressPrefix: postgresSubnetPrefix
          delegations: [
            {
              name: 'postgres-flexible-servers'
              properties: {
                serviceName: 'Microsoft.DBforPostgreSQL/flexibleServers'
              }
            }
          ]
        }
      }
    ]
  }
}

resource appSubnet 'Microsoft.Network/virtualNetworks/subnets@2024-05-01' existing = {
  parent: vnet
  name: 'app'
}

resource postgresSubnet 'Microsoft.Network/virtualNetworks/subnets@2024-05-01' existing = {
  parent: vnet
  name: 'postgres'
}

// The server's name resolves to its private address only inside the VNet.
resource postgresDnsZone 'Microsoft.Network/privateDnsZones@2024-06-01' = {
  name: '${names.postgres}.private.postgres.database.azure.com'
  location: 'global'
}

resource postgresDnsLink 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = {
  parent: postgresDnsZone
  name: '${names.vnet}-link'
  location: 'global'
  properties: {
    registrationEnabled: false
    virtualNetwork: {
      id: vnet.id
    }
  }
}

// ───────────────────────────── PostgreSQL ─────────────────────────────

resource postgres 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' = {
  name: names.postgres
  location: location
  sku: {
    name: postgresSkuName
    tier: postgresSkuTier
  }
  properties: {
    version: postgresVersion
    administratorLogin: postgresAdminLogin
    administratorLoginPassword: postgresAdminPassword
    authConfig: {
      activeDirectoryAuth: 'Disabled'
      passwordAuth: 'Enabled'
    }
    storage: {
      storageSizeGB: postgresStorageSizeGB
      autoGrow: 'Enabled'
    }
    backup: {
      backupRetentionDays: postgresBackupRetentionDays
      geoRedundantBackup: postgresGeoRedundantBackup
    }
    highAvailability: {
      mode: postgresHighAvailability
    }
    // Private access: the server lives in the delegated subnet and has no public endpoint.
    network: {
      delegatedSubnetResourceId: postgresSubnet.id
      privateDnsZoneArmResourceId: postgresDnsZone.id
    }
  }
  dependsOn: [
    postgresDnsLink
  ]
}

resource database 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2024-08-01' = {
  parent: postgres
  name: databaseName
  properties: {
    charset: 'UTF8'
    collation: 'en_US.utf8'
  }
}

// TLS only, 1.2 or later. The server takes one configuration change at a time: the second waits for the first.
resource requireTls 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2024-08-01' = {
  parent: postgres
  name: 'require_secure_transport'
  properties: {
    value: 'on'
    source: 'user-override'
  }
}

resource minimumTls 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2024-08-01' = {
  parent: postgres
  name: 'ssl_min_protocol_version'
  properties: {
    value: 'TLSv1.2'
    source: 'user-override'
  }
  dependsOn: [
    requireTls
  ]
}

// ───────────────────────────── Key Vault ─────────────────────────────

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: names.keyVault
  location: location
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
  }
}

resource botPasswordSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: keyVault
  name: 'bot-app-password'
  properties: {
    value: botAppPassword
    contentType: 'Entra client secret of the bot app registration'
  }
}

resource databaseUrlSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: keyVault
  name: 'database-url'
  properties: {
    // verify-full: TLS with the server's certificate checked against its name.
    value: 'postgres://${postgresAdminLogin}:${uriComponent(postgresAdminPassword)}@${postgres.properties.fullyQualifiedDomainName}:5432/${databaseName}?sslmode=verify-full'
    contentType: 'postgres:// URL'
  }
}

resource fieldKeysSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: keyVault
  name: 'field-encryption-keys'
  properties: {
    value: base64ToString(fieldEncryptionKeysBase64)
    contentType: 'JSON map: key id to base64 32-byte key'
  }
}

resource downloadLinkSecretValue 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: keyVault
  name: 'download-link-secret'
  properties: {
    value: downloadLinkSecret
    contentType: 'HMAC secret for download links'
  }
}

resource identityReadsSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: keyVault
  name: guid(keyVault.id, identity.id, roles.keyVaultSecretsUser)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// ───────────────────────────── registry ─────────────────────────────

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: names.registry
  location: location
  sku: {
    name: 'Standard'
  }
  properties: {
    adminUserEnabled: false
  }
}

resource identityPullsImages 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: registry
  name: guid(registry.id, identity.id, roles.acrPull)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.acrPull)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// ───────────────────────────── the directory file ─────────────────────────────

// The directory (people, roles, areas: DESIGN §10) is a JSON file on an Azure Files share,
// mounted into every instance at /mnt/directory. The service reads it at start.
resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: names.storage
  location: location
  kind: 'StorageV2'
  sku: {
    name: 'Standard_ZRS'
  }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    // App Service mounts Azure Files with the account key.
    allowSharedKeyAccess: true
  }
}

resource fileService 'Microsoft.Storage/storageAccounts/fileServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    shareDeleteRetentionPolicy: {
      enabled: true
      days: 30
    }
  }
}

resource directoryShare 'Microsoft.Storage/storageAccounts/fileServices/shares@2023-05-01' = {
  parent: fileService
  name: directoryShareName
  properties: {
    shareQuota: 1
    enabledProtocols: 'SMB'
  }
}

// ───────────────────────────── the web app ─────────────────────────────

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: names.plan
  location: location
  kind: 'linux'
  sku: {
    name: appServicePlanSku
    capacity: instanceCount
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: names.site
  location: location
  kind: 'app,linux,container'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Turn state lives in PostgreSQL: any instance serves any turn, no sticky sessions.
    clientAffinityEnabled: false
    keyVaultReferenceIdentity: identity.id
    // Outbound to private addresses (PostgreSQL) goes through the VNet, whose DNS resolves the
    // server's private zone; the Bot Connector and Entra ID are reached the usual way.
    virtualNetworkSubnetId: appSubnet.id
    vnetRouteAllEnabled: false
    siteConfig: {
      linuxFxVersion: 'DOCKER|${registry.properties.loginServer}/${imageName}:${imageTag}'
      acrUseManagedIdentityCreds: true
      acrUserManagedIdentityID: identity.properties.clientId
      alwaysOn: true
      healthCheckPath: '/healthz'
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      azureStorageAccounts: {
        directory: {
          type: 'AzureFiles'
          accountName: storage.name
          shareName: directoryShare.name
          mountPath: directoryMountPath
          accessKey: storage.listKeys().keys[0].value
        }
      }
    }
  }
  dependsOn: [
    identityPullsImages
    identityReadsSecrets
  ]
}

// No FTP or Kudu basic-auth publishing: images come from the registry.
resource noFtpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource noScmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

var siteOrigin = 'https://${site.properties.defaultHostName}'
var serviceOrigin = empty(publicUrl) ? siteOrigin : publicUrl

// The environment the service reads (src/config.ts). A separate resource because PUBLIC_URL
// needs the site's host name. Versionless secret URIs: a new secret version is picked up on restart.
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: {
    WEBSITES_PORT: appPort
    WEBSITES_ENABLE_APP_SERVICE_STORAGE: 'false'
    NODE_ENV: 'production'
    PORT: appPort
    LOG_LEVEL: 'info'
    PUBLIC_URL: serviceOrigin
    DATABASE_URL: '@Microsoft.KeyVault(SecretUri=${databaseUrlSecret.properties.secretUri})'
    DATABASE_POOL_SIZE: '10'
    DIRECTORY_FILE: '${directoryMountPath}/directory.json'
    MicrosoftAppType: 'SingleTenant'
    MicrosoftAppId: botAppId
    MicrosoftAppTenantId: botTenantId
    MicrosoftAppPassword: '@Microsoft.KeyVault(SecretUri=${botPasswordSecret.properties.secretUri})'
    INSTANCES: string(instanceCount)
    DOWNLOAD_LINK_SECRET: '@Microsoft.KeyVault(SecretUri=${downloadLinkSecretValue.properties.secretUri})'
    FIELD_ENCRYPTION_KEYS: '@Microsoft.KeyVault(SecretUri=${fieldKeysSecret.properties.secretUri})'
    FIELD_ENCRYPTION_CURRENT_KEY_ID: fieldEncryptionCurrentKeyId
    APPLICATIONINSIGHTS_CONNECTION_STRING: insights.properties.ConnectionString
  }
  dependsOn: [
    database
    minimumTls
  ]
}

// Container output (pino JSON), HTTP logs and platform events to Log Analytics.
resource siteDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  scope: site
  name: 'to-log-analytics'
  properties: {
    workspaceId: workspace.id
    logs: [
      {
        category: 'AppServiceConsoleLogs'
        enabled: true
      }
      {
        category: 'AppServiceHTTPLogs'
        enabled: true
      }
      {
        category: 'AppServicePlatformLogs'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

resource postgresDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  scope: postgres
  name: 'to-log-analytics'
  properties: {
    workspaceId: workspace.id
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

// ───────────────────────────── the bot ─────────────────────────────

resource bot 'Microsoft.BotService/botServices@2022-09-15' = {
  name: names.bot
  location: botLocation
  kind: 'azurebot'
  sku: {
    name: botSku
  }
  properties: {
    displayName: botDisplayName
    endpoint: '${serviceOrigin}/api/messages'
    msaAppId: botAppId
    msaAppType: 'SingleTenant'
    msaAppTenantId: botTenantId
  }
}

resource teamsChannel 'Microsoft.BotService/botServices/channels@2022-09-15' = {
  parent: bot
  name: 'MsTeamsChannel'
  location: botLocation
  properties: {
    channelName: 'MsTeamsChannel'
    properties: {
      isEnabled: true
      acceptedTerms: true
    }
  }
}

// ───────────────────────────── outputs ─────────────────────────────
// Names the toolkit writes to env/.env.<environment> (arm/deploy) and the deploy stage reads.

output AZURE_APP_SERVICE_RESOURCE_ID string = site.id
output AZURE_APP_SERVICE_NAME string = site.name
output BOT_DOMAIN string = replace(serviceOrigin, 'https://', '')
output BOT_ENDPOINT string = serviceOrigin
output AZURE_BOT_NAME string = bot.name
output AZURE_CONTAINER_REGISTRY_NAME string = registry.name
output AZURE_CONTAINER_REGISTRY_LOGIN_SERVER string = registry.properties.loginServer
output AZURE_KEY_VAULT_NAME string = keyVault.name
output AZURE_STORAGE_ACCOUNT_NAME string = storage.name
output DIRECTORY_SHARE_NAME string = directoryShare.name
output AZURE_POSTGRES_SERVER_NAME string = postgres.name
output AZURE_LOG_ANALYTICS_WORKSPACE_ID string = workspace.id
