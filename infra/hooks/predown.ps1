# azd predown hook (PowerShell twin of predown.sh): stops `azd down` before it starts when the resource group holds
# locks that protect the audit trail (azd down would fail on them half-way), saying what to do.
# SERVERLESSSERVE_DOWN_CONFIRMED=true skips the check.
$ErrorActionPreference = 'Stop'

function Get-AzdValue([string] $Name) {
    $v = azd env get-value $Name 2>$null
    if ($LASTEXITCODE -ne 0) { return '' }
    return "$v".Trim()
}

if ((Get-AzdValue 'SERVERLESSSERVE_DOWN_CONFIRMED') -eq 'true') {
    Write-Warning 'predown: SERVERLESSSERVE_DOWN_CONFIRMED=true: not checking for locks and retained data'
    exit 0
}

$group = Get-AzdValue 'AZURE_RESOURCE_GROUP'
if (-not $group) { exit 0 }
$locks = @(az lock list --resource-group $group --query '[].[name, id]' -o tsv | Where-Object { "$_".Trim() -ne '' })
if ($LASTEXITCODE -ne 0) {
    # A group deleted already (a partial teardown, or by hand) has nothing left to protect: azd down may go on.
    if ("$(az group exists --name $group 2>$null)".Trim() -eq 'false') {
        Write-Warning "predown: $group does not exist any more; nothing to check"
        exit 0
    }
    throw "predown: could not list the locks of $group (is the Azure CLI signed in? az login)"
}
if ($locks.Count -gt 0) {
    $list = ($locks | ForEach-Object { "  $_" }) -join "`n"
    throw "predown: azd down would stop half-way: $group holds locks that protect the audit trail:`n$list`nOnly if the audit log and models may really go: remove each lock (az lock delete --ids <id>) and run azd down again.`nBlobs still under retention (audit, audit-witness, model versions) keep their account until they expire.`nTo deploy again beside them instead: azd env set SERVERLESSSERVE_RESOURCE_SALT <new value>; azd up (docs/deploy.md, ""Tearing down"")."
}
Write-Host "predown: no locks in $group; note that an account holding blobs under retention cannot be deleted before they expire."
