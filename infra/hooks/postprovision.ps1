# azd postprovision hook (PowerShell). Same steps as postprovision.sh:
# - forgets the secrets handed to this provision and deletes their files (they are in Key Vault now);
#   public keys and the model-signing private key stay in .azure/<env>/keys;
# - publishes the sample models with ssctl when the models container is reachable from here.
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

$blobUri = Get-AzdValue 'SERVERLESSSERVE_MODELS_BLOB_URI'
$samples = Get-AzdValue 'SERVERLESSSERVE_SAMPLE_MODELS_DIR'
if (-not $samples) { $samples = 'samples/models' }

if ((Get-AzdValue 'SERVERLESSSERVE_VNET_ENABLED') -ne 'false' -and (Get-AzdValue 'SERVERLESSSERVE_PUBLISH_MODELS') -ne 'true') {
    Write-Host 'Models container is private; skipping sample publication. From a machine in the VNet run:'
    Write-Host "  dotnet run --project tools/ServerlessServe.Cli -- model publish <model-dir> --blob-uri $blobUri"
    exit 0
}

if (-not (Test-Path $samples -PathType Container)) {
    Write-Host "No sample models in $samples; nothing to publish."
    exit 0
}

foreach ($dir in Get-ChildItem -Path $samples -Directory) {
    Write-Host "Publishing $($dir.FullName)"
    dotnet run --project tools/ServerlessServe.Cli -- model publish $dir.FullName --blob-uri $blobUri
    if ($LASTEXITCODE -ne 0) { throw "ssctl model publish failed for $($dir.Name)" }
}
