# Pins the base images of infra/images.lock by digest (PowerShell twin of pin-images.sh): fills each empty digest
# (every digest with -Update) from the image's registry, anonymously over HTTPS; with -Azd also hands the pinned
# references to azd as the build arguments azure.yaml passes. Fails, naming the image, when a digest cannot be resolved.
param([switch] $Update, [switch] $Azd)
$ErrorActionPreference = 'Stop'

$lock = if ($env:SERVERLESSSERVE_IMAGES_LOCK) { $env:SERVERLESSSERVE_IMAGES_LOCK } else { Join-Path $PSScriptRoot '../images.lock' }
$accept = 'application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json'

function Get-Digest([string] $Image) {
    $name = $Image.Substring(0, $Image.LastIndexOf(':'))
    $tag = $Image.Substring($Image.LastIndexOf(':') + 1)
    $headers = @{ Accept = $accept }
    $first = $name.Split('/')[0]
    if ($name.Contains('/') -and $first.Contains('.')) {
        $hostName = $first; $repo = $name.Substring($first.Length + 1)
    }
    else {
        $hostName = 'registry-1.docker.io'; $repo = if ($name.Contains('/')) { $name } else { "library/$name" }
        $token = (Invoke-RestMethod "https://auth.docker.io/token?service=registry.docker.io&scope=repository:${repo}:pull").token
        $headers.Authorization = "Bearer $token"
    }
    $response = Invoke-WebRequest -Method Head -Headers $headers -Uri "https://$hostName/v2/$repo/manifests/$tag"
    $digest = "$($response.Headers['Docker-Content-Digest'])"
    if ($digest -notmatch '^sha256:[0-9a-f]{64}$') { throw "pin-images: could not resolve the digest of $Image" }
    return $digest
}

$values = @{}
$lines = foreach ($line in Get-Content $lock) {
    if ($line -match '^([A-Z_]+_IMAGE)=(.*)$') { $values[$Matches[1]] = $Matches[2]; $line }
    elseif ($line -match '^([A-Z_]+_IMAGE)_DIGEST=(.*)$') {
        $key = $Matches[1]; $current = $Matches[2]
        if (-not $current -or $Update) {
            $resolved = Get-Digest $values[$key]
            if ($resolved -ne $current) { Write-Host "pin-images: $($values[$key]) -> $resolved" }
            $current = $resolved
        }
        $values["${key}_DIGEST"] = $current
        "${key}_DIGEST=$current"
    }
    else { $line }
}
Set-Content -Path $lock -Value $lines

if ($Azd) {
    foreach ($key in 'SDK_IMAGE', 'RUNTIME_IMAGE', 'FUNCTIONS_IMAGE', 'CUDA_IMAGE') {
        azd env set "SERVERLESSSERVE_$key" "$($values[$key])@$($values["${key}_DIGEST"])" | Out-Null
        if ($LASTEXITCODE -ne 0) { throw "azd env set SERVERLESSSERVE_$key failed" }
    }
}
