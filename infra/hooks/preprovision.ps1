# azd preprovision hook (PowerShell). Same steps as preprovision.sh:
# - picks the inference image flavour (gpu/cpu) from SERVERLESSSERVE_GPU_ENABLED unless set;
# - on the first provision of an azd environment, generates the audit pseudonymisation key and the
#   service-token key (32 random bytes each) so that Bicep writes them to Key Vault through ARM.
$ErrorActionPreference = 'Stop'

function Get-AzdValue([string] $Name) {
    $v = azd env get-value $Name 2>$null
    if ($LASTEXITCODE -ne 0) { return '' }
    return "$v".Trim()
}

if (-not (Get-AzdValue 'SERVERLESSSERVE_ORT_FLAVOR')) {
    $flavor = if ((Get-AzdValue 'SERVERLESSSERVE_GPU_ENABLED') -eq 'false') { 'cpu' } else { 'gpu' }
    azd env set SERVERLESSSERVE_ORT_FLAVOR $flavor
}

if ((Get-AzdValue 'SERVERLESSSERVE_KEYS_SEEDED') -ne 'true') {
    foreach ($name in 'SERVERLESSSERVE_AUDIT_PSEUDONYM_KEY', 'SERVERLESSSERVE_SERVICE_TOKEN_KEY') {
        if (-not (Get-AzdValue $name)) {
            $bytes = [System.Security.Cryptography.RandomNumberGenerator]::GetBytes(32)
            azd env set $name ([Convert]::ToBase64String($bytes))
        }
    }
    Write-Host 'Generated first-time keys; provisioning stores them in Key Vault.'
}
