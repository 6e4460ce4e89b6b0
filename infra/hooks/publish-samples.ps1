# Publishes the sample models so that `azd up` ends with them served (PowerShell twin of publish-samples.sh; run by
# postprovision.ps1; SERVERLESSSERVE_PUBLISH_SAMPLES=false skips it). Signs each sample version here (`ssctl model
# pack`: the signing key never leaves this machine); with the VNet, builds the publisher image in the registry and runs
# the publish job inside the VNet, which verifies each package against the signer's public key and uploads it; without
# it (or with SERVERLESSSERVE_PUBLISH_MODELS=true), publishes the packages from here. Versions already published are skipped.
$ErrorActionPreference = 'Stop'

function Get-AzdValue([string] $Name) {
    $v = azd env get-value $Name 2>$null
    if ($LASTEXITCODE -ne 0) { return '' }
    return "$v".Trim()
}

function Invoke-Ssctl {
    dotnet run --project tools/ServerlessServe.Cli -- @args
    if ($LASTEXITCODE -ne 0) { throw "ssctl $($args[0]) $($args[1]) failed" }
}

if ((Get-AzdValue 'SERVERLESSSERVE_PUBLISH_SAMPLES') -eq 'false') {
    Write-Host 'SERVERLESSSERVE_PUBLISH_SAMPLES=false: sample models not published.'
    exit 0
}

$envName = Get-AzdValue 'AZURE_ENV_NAME'
if (-not $envName) { $envName = "$env:AZURE_ENV_NAME" }
$state = ".azure/$envName"
if (-not (Test-Path "$state/keys/model-signing.key.pem")) {
    Write-Host "No model signing key in $state/keys (a signer of your own is set): sign and publish your models yourself (docs/deploy.md, ""Publishing models"")."
    exit 0
}
# The key the deployment trusts may be a signer of your own (set before the first azd up, or rotated since): the
# generated key then signs nothing the apps would serve, and the job would refuse it.
if ([Convert]::ToBase64String([IO.File]::ReadAllBytes("$state/keys/model-signing.pub.pem")) -ne (Get-AzdValue 'SERVERLESSSERVE_MODEL_SIGNER_PUBLIC_KEY_PEM')) {
    Write-Host "The deployment trusts a model signer of your own, not the generated key in $state/keys: sample models not published; sign and publish your models yourself (docs/deploy.md, ""Publishing models"")."
    exit 0
}

$work = Join-Path ([IO.Path]::GetTempPath()) ([Guid]::NewGuid().ToString('N'))
try {
    Invoke-Ssctl model samples "$work/samples" | Out-Null
    $packages = New-Item -ItemType Directory -Path "$work/context/packages" -Force
    foreach ($dir in Get-ChildItem "$work/samples" -Directory | Get-ChildItem -Directory) {
        if (-not (Test-Path "$($dir.FullName)/model.onnx")) { continue }
        $name = $dir.Parent.Name; $version = $dir.Name
        Invoke-Ssctl model pack $dir.FullName --name $name --version $version --state $state --out "$($packages.FullName)/$name-$version.zip" | Out-Null
        Write-Host "Signed $name $version"
    }

    if ((Get-AzdValue 'SERVERLESSSERVE_VNET_ENABLED') -eq 'false' -or (Get-AzdValue 'SERVERLESSSERVE_PUBLISH_MODELS') -eq 'true') {
        Invoke-Ssctl model publish-packages $packages.FullName --blob-uri (Get-AzdValue 'AZURE_STORAGE_BLOB_ENDPOINT') --trusted-key "$state/keys/model-signing.pub.pem"
        exit 0
    }

    $registry = Get-AzdValue 'AZURE_CONTAINER_REGISTRY_NAME'
    $job = Get-AzdValue 'SERVERLESSSERVE_PUBLISH_JOB_NAME'
    $group = Get-AzdValue 'AZURE_RESOURCE_GROUP'
    if (-not ($registry -and $job -and $group)) { throw 'publish: the registry, job or resource group is not in the azd environment; provision first.' }

    & (Join-Path $PSScriptRoot 'pin-images.ps1') | Out-Null
    $lock = @{}
    Get-Content (Join-Path $PSScriptRoot '../images.lock') | Where-Object { $_ -match '^([A-Z_]+)=(.*)$' } | ForEach-Object { $lock[$Matches[1]] = $Matches[2] }
    git archive --format=tar --output "$work/source.tar" HEAD
    if ($LASTEXITCODE -ne 0) { throw 'git archive failed' }
    tar -x -f "$work/source.tar" -C "$work/context"
    Set-Content -Path "$work/context/.dockerignore" -Value "**/bin/`n**/obj/"
    $tag = "publisher:$((Get-Date).ToUniversalTime().ToString('yyyyMMddHHmmss'))"
    Write-Host "Building $tag in $registry (remote build)"
    az acr build --registry $registry --image $tag --file tools/ServerlessServe.Cli/Dockerfile.publisher `
        --build-arg "SDK_IMAGE=$($lock.SDK_IMAGE)@$($lock.SDK_IMAGE_DIGEST)" --build-arg "RUNTIME_IMAGE=$($lock.RUNTIME_IMAGE)@$($lock.RUNTIME_IMAGE_DIGEST)" `
        "$work/context" | Out-Null
    if ($LASTEXITCODE -ne 0) { throw 'az acr build failed' }
    $image = "$(az acr show --name $registry --query loginServer -o tsv)/$tag"
    azd env set SERVERLESSSERVE_PUBLISHER_IMAGE_NAME $image | Out-Null
    az containerapp job update --name $job --resource-group $group --image $image | Out-Null
    if ($LASTEXITCODE -ne 0) { throw 'az containerapp job update failed' }
    $execution = az containerapp job start --name $job --resource-group $group --query name -o tsv
    if ($LASTEXITCODE -ne 0) { throw 'az containerapp job start failed' }
    Write-Host "Publishing from inside the VNet: job $job, execution $execution"
    $status = 'Running'
    for ($i = 0; $status -in @('Running', 'Processing', ''); $i++) {
        if ($i -ge 186) { throw "publish: execution $execution still $status after 31 minutes (the job's replica timeout is 30); see: az containerapp job execution show -n $job -g $group --job-execution-name $execution" }
        Start-Sleep -Seconds 10
        $status = "$(az containerapp job execution show --name $job --resource-group $group --job-execution-name $execution --query properties.status -o tsv)".Trim()
    }
    if ($status -ne 'Succeeded') { throw "publish: execution $execution ended $status; its log: az containerapp job logs show -n $job -g $group --execution $execution --container publish" }
    Write-Host "Sample models published (execution $execution)."
}
finally {
    Remove-Item -Recurse -Force $work -ErrorAction SilentlyContinue
}
