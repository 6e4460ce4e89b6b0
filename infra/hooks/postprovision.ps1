# azd postprovision hook (PowerShell). Same steps as postprovision.sh:
# - forgets the secrets handed to this provision and deletes their files (they are in Key Vault now);
#   public keys and the model-signing private key stay in .azure/<env>/keys;
# - with SERVERLESSSERVE_LOCK_AUDIT_RETENTION=true, locks the time-based retention policies of `audit` and
#   `audit-witness` (irreversible: docs/deploy.md, "Data protection and audit"); idempotent; once one is locked, sets
#   SERVERLESSSERVE_AUDIT_RETENTION_LOCKED=true so that later provisions leave both policies out of the template (Azure
#   refuses to update a locked policy);
# - warns when the gateway's default host name is not the public origin signed requests are checked against;
# - publishes the sample models (publish-samples.ps1): signed here, uploaded by the publish job inside the VNet.
$ErrorActionPreference = 'Stop'

function Get-AzdValue([string] $Name) {
    $v = azd env get-value $Name 2>$null
    if ($LASTEXITCODE -ne 0) { return '' }
    return "$v".Trim()
}

foreach ($name in 'SERVERLESSSERVE_AUDIT_PSEUDONYM_KEY', 'SERVERLESSSERVE_AUDIT_CHECKPOINT_KEY_PEM', 'SERVERLESSSERVE_AUDIT_WITNESS_KEY_PEM') {
    if (Get-AzdValue $name) { azd env set $name '' }
}
$envName = Get-AzdValue 'AZURE_ENV_NAME'
if (-not $envName) { $envName = $env:AZURE_ENV_NAME }
if ($envName) {
    foreach ($file in 'audit-pseudonym.key', 'audit-checkpoint.key.pem', 'audit-witness.key.pem', 'managed-identity.secret') {
        Remove-Item -Force -ErrorAction SilentlyContinue (Join-Path (Join-Path '.azure' $envName) "keys/$file")
    }
}
azd env set SERVERLESSSERVE_KEYS_SEEDED true
azd env set SERVERLESSSERVE_WITNESS_KEY_SEEDED true
# A reseed asked for (SERVERLESSSERVE_RESEED_KEYS, preflight.ps1) is done: the next provision reseeds nothing.
if ((Get-AzdValue 'SERVERLESSSERVE_RESEED_KEYS') -eq 'true') { azd env set SERVERLESSSERVE_RESEED_KEYS false }
# The salt whose Key Vault holds the seeded secrets: a new salt makes preprovision seed the new vault.
$seededSalt = Get-AzdValue 'SERVERLESSSERVE_RESOURCE_SALT'
if ($seededSalt) { azd env set SERVERLESSSERVE_KEYS_SEEDED_SALT $seededSalt } else { azd env set SERVERLESSSERVE_KEYS_SEEDED_SALT '""' }

# A locked policy can only be extended: every later provision must leave the policies out of the template
# (auditRetentionLocked), or Azure refuses the deployment. Recorded with the salt that named the locked accounts:
# preflight forgets it under a new salt, whose new accounts need their policies from the template.
function Set-RetentionLocked {
    azd env set SERVERLESSSERVE_AUDIT_RETENTION_LOCKED true
    if ($LASTEXITCODE -ne 0) { throw 'azd env set SERVERLESSSERVE_AUDIT_RETENTION_LOCKED failed' }
    $lockedSalt = Get-AzdValue 'SERVERLESSSERVE_RESOURCE_SALT'
    if ($lockedSalt) { azd env set SERVERLESSSERVE_AUDIT_RETENTION_LOCKED_SALT $lockedSalt } else { azd env set SERVERLESSSERVE_AUDIT_RETENTION_LOCKED_SALT '""' }
    if ($LASTEXITCODE -ne 0) { throw 'azd env set SERVERLESSSERVE_AUDIT_RETENTION_LOCKED_SALT failed' }
}

# Locks one container's retention policy with the policy's current etag; a locked policy is left as it is.
# Through Azure Resource Manager (az CLI, the operator's login), so it works with the accounts' public access off.
function Lock-Retention([string] $Account, [string] $Container, [string] $Group) {
    if (-not $Account -or -not $Group) {
        throw "Retention lock: account or resource group unknown for '$Container'; run 'azd provision' first."
    }
    $policy = az storage container immutability-policy show --account-name $Account --container-name $Container --resource-group $Group --output json
    if ($LASTEXITCODE -ne 0) {
        throw "Retention lock: cannot read the retention policy of $Account/$Container (az login? Reader on the account?)."
    }
    $policy = $policy | ConvertFrom-Json
    switch ("$($policy.state)") {
        'Locked' {
            Write-Host "Retention lock: $Account/$Container is already locked; nothing to do."
            Set-RetentionLocked
            return
        }
        'Unlocked' { }
        default {
            $hint = ''
            if ((Get-AzdValue 'SERVERLESSSERVE_AUDIT_RETENTION_LOCKED') -eq 'true') {
                $hint = " SERVERLESSSERVE_AUDIT_RETENTION_LOCKED=true leaves the policies out of the template; for new accounts run 'azd env set SERVERLESSSERVE_AUDIT_RETENTION_LOCKED false' and 'azd provision'."
            }
            throw "Retention lock: $Account/$Container has no time-based retention policy (state '$($policy.state)'); not locking.$hint"
        }
    }
    Write-Host "Retention lock: locking $Account/$Container (etag $($policy.etag)). From now on its retention can only be extended."
    az storage container immutability-policy lock --account-name $Account --container-name $Container --resource-group $Group --if-match $policy.etag --output none
    if ($LASTEXITCODE -ne 0) { throw "Retention lock: locking $Account/$Container failed." }
    Set-RetentionLocked
    Write-Host "Retention lock: $Account/$Container locked."
}

if ((Get-AzdValue 'SERVERLESSSERVE_LOCK_AUDIT_RETENTION') -eq 'true') {
    $group = Get-AzdValue 'AZURE_RESOURCE_GROUP'
    $auditContainer = Get-AzdValue 'SERVERLESSSERVE_AUDIT_CONTAINER'
    if (-not $auditContainer) { $auditContainer = 'audit' }
    $witnessContainer = Get-AzdValue 'SERVERLESSSERVE_AUDIT_WITNESS_CONTAINER'
    if (-not $witnessContainer) { $witnessContainer = 'audit-witness' }
    Lock-Retention (Get-AzdValue 'AZURE_STORAGE_ACCOUNT_NAME') $auditContainer $group
    Lock-Retention (Get-AzdValue 'SERVERLESSSERVE_AUDIT_WITNESS_ACCOUNT_NAME') $witnessContainer $group
}
else {
    Write-Host "Audit retention policies stay unlocked (set SERVERLESSSERVE_LOCK_AUDIT_RETENTION=true and run 'azd hooks run postprovision' to lock them)."
}

# Signed requests are checked against SERVERLESSSERVE_SIGNATURES_PUBLIC_BASE_URL; with no custom origin it must be
# the gateway's default host name, which Azure may choose otherwise (a unique default host name).
$publicBase = Get-AzdValue 'SERVERLESSSERVE_SIGNATURES_PUBLIC_BASE_URL'
$gatewayUri = Get-AzdValue 'SERVICE_GATEWAY_URI'
if ($publicBase.EndsWith('.azurewebsites.net') -and -not $gatewayUri.StartsWith("$publicBase/")) {
    Write-Warning "The gateway is served at $gatewayUri but signed requests are checked against $publicBase; set gatewayPublicBaseUrl (SERVERLESSSERVE_GATEWAY_PUBLIC_BASE_URL) to its origin and provision again."
}

& (Join-Path $PSScriptRoot 'publish-samples.ps1')
