# Preflight before provisioning (PowerShell; run by preprovision.ps1). Same checks as preflight.sh:
# 1. the region offers Flex Consumption; 2. unless SERVERLESSSERVE_GPU_ENABLED=false, the region offers the serverless
# GPU profile type and the subscription has quota for one more GPU of it there; 3. SERVERLESSSERVE_KEY_VAULT_CREATE_MODE
# is recover when a Key Vault of this azd environment was left soft-deleted by `azd down`, default otherwise; 4. a live
# vault of this environment not known here as seeded stops the provision; 5. a retention lock recorded under another
# resource salt (SERVERLESSSERVE_AUDIT_RETENTION_LOCKED) is forgotten; 6. the three audiences no app starts without are
# set; 7. the inference image's ONNX Runtime flavour follows SERVERLESSSERVE_GPU_ENABLED.
# SERVERLESSSERVE_SKIP_PREFLIGHT=true skips 1 and 2, and says so.
$ErrorActionPreference = 'Stop'

function Get-AzdValue([string] $Name) {
    $v = azd env get-value $Name 2>$null
    if ($LASTEXITCODE -ne 0) { return '' }
    return "$v".Trim()
}

function Invoke-Az([string] $What) {
    $out = & az @args
    if ($LASTEXITCODE -ne 0) { throw "preflight: could not $What" }
    return @($out | Where-Object { "$_".Trim() -ne '' } | ForEach-Object { "$_".Trim() })
}

$location = Get-AzdValue 'AZURE_LOCATION'
if (-not $location) { $location = "$env:AZURE_LOCATION" }
if (-not $location) { throw 'preflight: AZURE_LOCATION is not set: azd env set AZURE_LOCATION <region>' }
$region = $location.ToLowerInvariant().Replace(' ', '')
$envName = Get-AzdValue 'AZURE_ENV_NAME'
if (-not $envName) { $envName = "$env:AZURE_ENV_NAME" }

# The audiences no app starts without (review 2026-12-07: the gateway's and the admin app's were not checked).
$audiences = [ordered]@{
    'SERVERLESSSERVE_INFERENCE_AUDIENCE' = 'the application id URI of the inference API''s app registration (docs/identity.md, "Services"); neither the gateway nor the inference app starts without it'
    'SERVERLESSSERVE_IDENTITY_AUDIENCE' = 'the client id (or api:// URI) of the app registration that exposes the API to callers (docs/identity.md, "Entra ID"); the gateway does not start without it'
    'SERVERLESSSERVE_IDENTITY_ADMIN_AUDIENCE' = 'the audience of the admin API''s tokens (docs/identity.md); the admin app does not start without it'
}
foreach ($name in $audiences.Keys) {
    # From the azd environment, else the process's (a CI job may export them).
    if (-not (Get-AzdValue $name) -and -not [Environment]::GetEnvironmentVariable($name)) { throw "preflight: $name is empty: set it to $($audiences[$name])." }
}

# Every az call of the hooks uses the Azure CLI's own default subscription, which must be the one azd deploys to.
$azdSubscription = Get-AzdValue 'AZURE_SUBSCRIPTION_ID'
if ($azdSubscription) {
    $cliSubscription = "$(az account show --query id -o tsv 2>$null)".Trim()
    if ($cliSubscription -and $cliSubscription -ne $azdSubscription) {
        throw "preflight: the Azure CLI's subscription ($cliSubscription) is not the one azd deploys to ($azdSubscription). Run: az account set --subscription $azdSubscription"
    }
}

if ((Get-AzdValue 'SERVERLESSSERVE_SKIP_PREFLIGHT') -eq 'true') {
    Write-Warning 'preflight: SERVERLESSSERVE_SKIP_PREFLIGHT=true: the region and quota checks are skipped'
}
else {
    $flex = Invoke-Az 'list the Flex Consumption regions (is the Azure CLI signed in? az login)' functionapp list-flexconsumption-locations --query '[].name' -o tsv
    if (-not ($flex | Where-Object { $_.ToLowerInvariant().Replace(' ', '') -eq $region })) {
        throw "preflight: region '$location' does not offer Flex Consumption, which the gateway and the admin app run on. Regions that do: $($flex -join ' ')"
    }

    if ((Get-AzdValue 'SERVERLESSSERVE_GPU_ENABLED') -ne 'false') {
        $profileType = Get-AzdValue 'SERVERLESSSERVE_GPU_PROFILE_TYPE'
        if (-not $profileType) { $profileType = 'Consumption-GPU-NC8as-T4' }
        $gpu = if ($profileType -like '*T4*') { 'T4' } elseif ($profileType -like '*A100*') { 'A100' } else {
            throw "preflight: SERVERLESSSERVE_GPU_PROFILE_TYPE '$profileType' is not a serverless GPU profile type the template knows (Consumption-GPU-NC8as-T4, Consumption-GPU-NC24-A100)"
        }
        $supported = Invoke-Az "list the Container Apps workload profiles of '$location'" containerapp env workload-profile list-supported -l $location --query '[].name' -o tsv
        if ($supported -notcontains $profileType) {
            throw "preflight: region '$location' does not offer the serverless GPU profile '$profileType'. Pick a region that does, or run on CPU: azd env set SERVERLESSSERVE_GPU_ENABLED false"
        }
        $subscription = (Invoke-Az 'read the signed-in subscription' account show --query id -o tsv)[0]
        $url = "https://management.azure.com/subscriptions/$subscription/providers/Microsoft.App/locations/$region/usages?api-version=2025-01-01"
        $quota = Invoke-Az "read the Container Apps quotas of '$location'" rest --method get --url $url --query "value[?contains(name.value, '$gpu')].[name.value, currentValue, limit]" -o tsv
        if ($quota.Count -eq 0) {
            throw "preflight: the subscription has no serverless $gpu GPU quota in '$location'. Request it (Quotas, provider Container Apps; docs/deploy.md, ""Region and quota""), or run on CPU: azd env set SERVERLESSSERVE_GPU_ENABLED false"
        }
        $name, $current, $limit = $quota[0] -split '\s+'
        if (-not $limit -or [double]$limit -le [double]$current) {
            throw "preflight: the serverless $gpu GPU quota '$name' in '$location' is used up ($current of $limit). Request more, or run on CPU: azd env set SERVERLESSSERVE_GPU_ENABLED false"
        }
        Write-Host "preflight: '$location' offers Flex Consumption and $profileType; GPU quota ${name}: $current of $limit in use"
    }
    else {
        Write-Host "preflight: '$location' offers Flex Consumption; inference runs on CPU (SERVERLESSSERVE_GPU_ENABLED=false)"
    }
}

$mode = 'default'
$salt = Get-AzdValue 'SERVERLESSSERVE_RESOURCE_SALT'
if ($envName) {
    # Only a vault of this environment, this application (another project may use the same environment name), this
    # region and this resource salt (absent tag: the empty salt): any other is not this deployment's vault.
    $deleted = @(az keyvault list-deleted --resource-type vault --query "[?properties.tags.""azd-env-name""=='$envName' && properties.tags.application=='serverlessserve' && properties.location=='$region' && (properties.tags.""serverlessserve-salt"" || '')=='$salt'].name" -o tsv 2>$null | Where-Object { "$_".Trim() -ne '' })
    if ($LASTEXITCODE -eq 0 -and $deleted.Count -gt 0) {
        $mode = 'recover'
        Write-Host "preflight: Key Vault $($deleted -join ' ') was left soft-deleted by an earlier azd down; this provision recovers it (its secrets come back with it)"
    }
}
azd env set SERVERLESSSERVE_KEY_VAULT_CREATE_MODE $mode | Out-Null
if ($LASTEXITCODE -ne 0) { throw 'azd env set SERVERLESSSERVE_KEY_VAULT_CREATE_MODE failed' }

# An environment whose keys were seeded from another machine: its vault is live, but this machine's azd environment does
# not know, and preprovision would seed new audit keys into it and replace the trusted model signer (review 2026-12-07).
# Not while this machine still holds keys it has not handed over (its own first provision failed after the vault was made).
$held = (Get-AzdValue 'SERVERLESSSERVE_AUDIT_CHECKPOINT_KEY_PEM') -or ($envName -and (Test-Path (Join-Path (Join-Path '.azure' $envName) 'keys/audit-checkpoint.key.pem')))
if ($mode -eq 'default' -and $envName -and -not $held -and (Get-AzdValue 'SERVERLESSSERVE_KEYS_SEEDED') -ne 'true' -and (Get-AzdValue 'SERVERLESSSERVE_RESEED_KEYS') -ne 'true') {
    # Under any salt: a second machine without this environment's salt would otherwise deploy a second set beside it.
    # Closed when it cannot look (the Azure CLI not signed in): seeding blind is what this check is for.
    $live = @(az keyvault list --query "[?tags.""azd-env-name""=='$envName' && tags.application=='serverlessserve' && location=='$region'].[name, tags.""serverlessserve-salt""]" -o tsv 2>$null | Where-Object { "$_".Trim() -ne '' })
    if ($LASTEXITCODE -ne 0) {
        throw "preflight: could not list the Key Vaults to see whether azd environment '$envName' is already deployed (is the Azure CLI signed in? az login). On its first provision, set SERVERLESSSERVE_RESEED_KEYS=true to go on without looking."
    }
    if ($live.Count -gt 0) {
        $rows = $live | ForEach-Object { $f = "$_".TrimEnd("`r").Split("`t"); [pscustomobject]@{ Name = $f[0]; Salt = if ($f.Count -gt 1 -and $f[1] -ne 'None') { $f[1] } else { '' } } }
        $other = @($rows | Where-Object { $_.Salt -ne $salt })
        $saltNote = if ($other.Count -gt 0) { " It was deployed under resource salt '$(($other | ForEach-Object Salt) -join ' ')', this machine's is '$salt': 'azd env refresh' takes that too (SERVERLESSSERVE_RESOURCE_SALT)." } else { '' }
        throw "preflight: Key Vault $(($rows | ForEach-Object Name) -join ' ') of azd environment '$envName' already holds its audit keys, seeded by the machine that first provisioned it, which this one's azd environment does not know. Provisioning from here would seed new ones and replace the trusted model signer. Run 'azd env refresh' to take the environment's values from its last deployment (or copy SERVERLESSSERVE_KEYS_SEEDED, SERVERLESSSERVE_KEYS_SEEDED_SALT, SERVERLESSSERVE_WITNESS_KEY_SEEDED, SERVERLESSSERVE_RESOURCE_SALT and SERVERLESSSERVE_MODEL_SIGNER_PUBLIC_KEY_PEM from that machine's .azure/$envName/.env), or set SERVERLESSSERVE_RESEED_KEYS=true to replace the keys (every model must then be signed and published again).$saltNote"
    }
}

# Once postprovision has locked the audit retention policies, provisioning leaves them out of the template (Azure refuses
# to update a locked policy). A new salt names new accounts, whose containers need those policies from the template.
if ((Get-AzdValue 'SERVERLESSSERVE_AUDIT_RETENTION_LOCKED') -eq 'true' -and (Get-AzdValue 'SERVERLESSSERVE_AUDIT_RETENTION_LOCKED_SALT').Trim('"') -ne $salt) {
    azd env set SERVERLESSSERVE_AUDIT_RETENTION_LOCKED false | Out-Null
    if ($LASTEXITCODE -ne 0) { throw 'azd env set SERVERLESSSERVE_AUDIT_RETENTION_LOCKED failed' }
    Write-Host 'preflight: the resource salt changed since the audit retention policies were locked: this provision declares the audit retention policies of the new accounts (unlocked; lock them as before)'
}

# The inference image's ONNX Runtime follows SERVERLESSSERVE_GPU_ENABLED on every run while this hook chose it; a flavour
# set by hand is kept, except a CPU image on the GPU, which stops here (review 2026-12-07).
$wanted = if ((Get-AzdValue 'SERVERLESSSERVE_GPU_ENABLED') -eq 'false') { 'cpu' } else { 'gpu' }
$flavor = Get-AzdValue 'SERVERLESSSERVE_ORT_FLAVOR'
$chosen = Get-AzdValue 'SERVERLESSSERVE_ORT_FLAVOR_CHOSEN'
# ('preflight': the marker of this hook's first form, on 2026-12-07, for whatever it chose.)
if (-not $flavor -or $chosen -eq $flavor -or $chosen -eq 'preflight') {
    if ($flavor -ne $wanted) {
        azd env set SERVERLESSSERVE_ORT_FLAVOR $wanted | Out-Null
        if ($LASTEXITCODE -ne 0) { throw 'azd env set SERVERLESSSERVE_ORT_FLAVOR failed' }
        if ($flavor) { Write-Host "preflight: the inference image is built with the $wanted ONNX Runtime from now on (it was $flavor), as SERVERLESSSERVE_GPU_ENABLED says; the next deploy builds it" }
    }
    # What the hook chose: a flavour other than this one was set by hand, and is kept.
    azd env set SERVERLESSSERVE_ORT_FLAVOR_CHOSEN $wanted | Out-Null
    if ($LASTEXITCODE -ne 0) { throw 'azd env set SERVERLESSSERVE_ORT_FLAVOR_CHOSEN failed' }
}
elseif ($flavor -eq 'cpu' -and $wanted -eq 'gpu') {
    throw 'preflight: SERVERLESSSERVE_ORT_FLAVOR=cpu builds the inference image without the CUDA provider, but the GPU is on (SERVERLESSSERVE_GPU_ENABLED), where the app asks for it and would refuse every request: azd env set SERVERLESSSERVE_ORT_FLAVOR gpu, or SERVERLESSSERVE_GPU_ENABLED false. (A flavour the hooks set before 2026-12-07 counts as set by hand: azd env set SERVERLESSSERVE_ORT_FLAVOR_CHOSEN cpu lets it follow the GPU setting.)'
}
