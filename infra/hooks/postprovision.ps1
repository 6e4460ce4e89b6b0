# azd postprovision hook (PowerShell). Same steps as postprovision.sh:
# - forgets the secrets handed to this provision and deletes their files (they are in Key Vault now);
#   public keys and the model-signing private key stay in .azure/<env>/keys;
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

& (Join-Path $PSScriptRoot 'publish-samples.ps1')
