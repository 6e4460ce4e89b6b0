# azd preprovision hook (PowerShell). Same steps as preprovision.sh:
# - runs the preflight (preflight.ps1): region, GPU profile and quota, a soft-deleted Key Vault to recover, a live one
#   seeded from another machine, the audiences no app starts without, the inference image's ONNX Runtime flavour;
# - hands the digest-pinned base images to azd as build arguments (pin-images.ps1);
# - on the first provision of an azd environment, creates its keys with
#   `ssctl keys create --state .azure/<env>` and hands them to Bicep through the azd environment: public
#   key as a plain parameter (a model signer key you set beforehand is kept), the three secrets (audit pseudonym,
#   checkpoint and witness keys) as secure parameters that Bicep writes to Key Vault (postprovision forgets them and
#   deletes their files);
# - in an environment seeded before the audit witness was deployed (SERVERLESSSERVE_WITNESS_KEY_SEEDED unset), creates
#   the witness key alone, in a scratch state folder, and hands it over the same way;
# PEMs are stored base64-encoded (azd environment values are single-line); Bicep decodes them.
# No key material is printed.
$ErrorActionPreference = 'Stop'

function Get-AzdValue([string] $Name) {
    $v = azd env get-value $Name 2>$null
    if ($LASTEXITCODE -ne 0) { return '' }
    return "$v".Trim()
}

function Set-AzdValue([string] $Name, [string] $Value) {
    azd env set $Name $Value | Out-Null
    if ($LASTEXITCODE -ne 0) { throw "azd env set $Name failed" }
}

function Get-Base64([string] $Path) { [Convert]::ToBase64String([IO.File]::ReadAllBytes($Path)) }

& (Join-Path $PSScriptRoot 'preflight.ps1')
# Base images pinned by digest for the remote image builds (fills an empty digest of infra/images.lock).
& (Join-Path $PSScriptRoot 'pin-images.ps1') -Azd


$seeded = (Get-AzdValue 'SERVERLESSSERVE_KEYS_SEEDED') -eq 'true'
$witnessSeeded = (Get-AzdValue 'SERVERLESSSERVE_WITNESS_KEY_SEEDED') -eq 'true'
# A new resource salt names a new Key Vault, empty: the secrets seeded into the old one must be made again for it.
$seededSalt = (Get-AzdValue 'SERVERLESSSERVE_KEYS_SEEDED_SALT').Trim('"')
if ($seeded -and $seededSalt -ne (Get-AzdValue 'SERVERLESSSERVE_RESOURCE_SALT')) {
    $saltEnv = Get-AzdValue 'AZURE_ENV_NAME'
    if (-not $saltEnv) { $saltEnv = $env:AZURE_ENV_NAME }
    $saltKeys = ".azure/$saltEnv/keys"
    $previous = Join-Path $saltKeys "before-salt-$((Get-Date).ToUniversalTime().ToString('yyyyMMddHHmmss'))"
    New-Item -ItemType Directory -Force -Path $previous | Out-Null
    Get-ChildItem -Path $saltKeys -Filter '*.pub.pem' -File | Copy-Item -Destination $previous
    Remove-Item -Force -ErrorAction SilentlyContinue (Join-Path $saltKeys 'audit-checkpoint.pub.pem'), (Join-Path $saltKeys 'audit-witness.pub.pem')
    Write-Host "The resource salt changed since the keys were seeded: new audit keys for the new Key Vault (the old public keys are in $previous)."
    $seeded = $false
    $witnessSeeded = $false
}
if ($seeded -and $witnessSeeded) {
    exit 0
}

$envName = Get-AzdValue 'AZURE_ENV_NAME'
if (-not $envName) { $envName = $env:AZURE_ENV_NAME }
if (-not $envName) { throw 'AZURE_ENV_NAME is not set' }
$state = Join-Path '.azure' $envName
$keys = Join-Path $state 'keys'

if ($seeded) {
    # Seeded before the witness: `keys create` here would recreate the deleted secret keys and overwrite their public
    # halves, so the witness key is made in a scratch state and only its two files are kept.
    $scratch = Join-Path ([IO.Path]::GetTempPath()) ([IO.Path]::GetRandomFileName())
    try {
        dotnet run --project tools/ServerlessServe.Cli -- keys create --state $scratch | Out-Null
        if ($LASTEXITCODE -ne 0) { throw 'ssctl keys create failed' }
        New-Item -ItemType Directory -Force -Path $keys | Out-Null
        foreach ($file in 'audit-witness.key.pem', 'audit-witness.pub.pem') {
            Copy-Item -Force (Join-Path (Join-Path $scratch 'keys') $file) $keys
        }
    }
    finally {
        # The scratch state holds a full set of private keys: never left behind, whatever failed.
        Remove-Item -Recurse -Force $scratch -ErrorAction SilentlyContinue
    }
    $created = 'the audit witness key'
}
else {
    dotnet run --project tools/ServerlessServe.Cli -- keys create --state $state | Out-Null
    if ($LASTEXITCODE -ne 0) { throw 'ssctl keys create failed' }
    $created = 'first-time keys'

    Set-AzdValue 'SERVERLESSSERVE_AUDIT_PSEUDONYM_KEY' ([IO.File]::ReadAllText((Join-Path $keys 'audit-pseudonym.key')).Trim())
    Set-AzdValue 'SERVERLESSSERVE_AUDIT_CHECKPOINT_KEY_PEM' (Get-Base64 (Join-Path $keys 'audit-checkpoint.key.pem'))
    # Your own model signer, if already set, is kept.
    if (-not (Get-AzdValue 'SERVERLESSSERVE_MODEL_SIGNER_PUBLIC_KEY_PEM')) {
        Set-AzdValue 'SERVERLESSSERVE_MODEL_SIGNER_PUBLIC_KEY_PEM' (Get-Base64 (Join-Path $keys 'model-signing.pub.pem'))
    }
}
# The witness key is generated on its own, never derived from or equal to the checkpoint key (the sink refuses that).
Set-AzdValue 'SERVERLESSSERVE_AUDIT_WITNESS_KEY_PEM' (Get-Base64 (Join-Path $keys 'audit-witness.key.pem'))
Write-Host "Created $created in $keys; provisioning stores the secret ones in Key Vault."
