#!/bin/sh
# Preflight before provisioning (run by preprovision.sh; `sh infra/hooks/preflight.sh` runs it alone). Fails early, with
# what to do, where a deployment would otherwise fail half-way:
# 1. the region offers Flex Consumption (the gateway's and the admin app's plans);
# 2. unless SERVERLESSSERVE_GPU_ENABLED=false: the region offers the serverless GPU profile type, and the subscription
#    has quota for one more GPU of that type there (Microsoft.App usages);
# 3. a Key Vault of this azd environment left soft-deleted by `azd down` (purge protection keeps it for its retention
#    days, and its name is fixed) is recovered rather than collided with: SERVERLESSSERVE_KEY_VAULT_CREATE_MODE is set
#    to recover when such a vault exists and to default otherwise, on every run;
# 4. an environment whose vault is live but whose keys this machine's azd environment does not know as seeded (it was
#    provisioned from another machine) stops, rather than have new keys seeded over the old (SERVERLESSSERVE_RESEED_KEYS=true
#    to replace them);
# 5. a retention lock recorded under another resource salt (SERVERLESSSERVE_AUDIT_RETENTION_LOCKED, set by postprovision)
#    is forgotten: the new salt's new accounts need their audit retention policies from the template;
# 6. the three audiences no app starts without are set;
# 7. the inference image's ONNX Runtime flavour (SERVERLESSSERVE_ORT_FLAVOR) follows SERVERLESSSERVE_GPU_ENABLED.
# SERVERLESSSERVE_SKIP_PREFLIGHT=true skips 1 and 2, and says so.
set -eu

value() { azd env get-value "$1" 2>/dev/null || true; }
fail() {
  echo "preflight: $*" >&2
  exit 1
}
lower() { tr 'ABCDEFGHIJKLMNOPQRSTUVWXYZ' 'abcdefghijklmnopqrstuvwxyz'; }

location=$(value AZURE_LOCATION)
[ -n "$location" ] || location=${AZURE_LOCATION:-}
[ -n "$location" ] || fail "AZURE_LOCATION is not set: azd env set AZURE_LOCATION <region>"
region=$(printf '%s' "$location" | lower | tr -d ' ')
env_name=$(value AZURE_ENV_NAME)
[ -n "$env_name" ] || env_name=${AZURE_ENV_NAME:-}

# The audiences no app starts without (an empty one becomes an empty Audiences:0, which the app's settings check refuses):
# stopped here rather than after a deployment that reports success and apps that never start (the gateway's and the
# admin app's were not checked before 2026-12-07: review).
for name in SERVERLESSSERVE_INFERENCE_AUDIENCE SERVERLESSSERVE_IDENTITY_AUDIENCE SERVERLESSSERVE_IDENTITY_ADMIN_AUDIENCE; do
  # From the azd environment, else the process's (as AZURE_LOCATION above: a CI job may export them).
  set_to=$(value "$name")
  [ -n "$set_to" ] || eval "set_to=\${$name:-}"
  if [ -z "$set_to" ]; then
    case "$name" in
      SERVERLESSSERVE_INFERENCE_AUDIENCE) what="the application id URI of the inference API's app registration (docs/identity.md, \"Services\"); neither the gateway nor the inference app starts without it" ;;
      SERVERLESSSERVE_IDENTITY_AUDIENCE) what="the client id (or api:// URI) of the app registration that exposes the API to callers (docs/identity.md, \"Entra ID\"); the gateway does not start without it" ;;
      *) what="the audience of the admin API's tokens (docs/identity.md); the admin app does not start without it" ;;
    esac
    fail "$name is empty: set it to $what."
  fi
done

# Every az call of the hooks uses the Azure CLI's own default subscription, which must be the one azd deploys to: in
# another, the quota and the soft-deleted vault are looked for in the wrong place, and predown and the publish step fail.
azd_subscription=$(value AZURE_SUBSCRIPTION_ID)
if [ -n "$azd_subscription" ]; then
  cli_subscription=$(az account show --query id -o tsv 2>/dev/null | tr -d '\r' || true)
  if [ -n "$cli_subscription" ] && [ "$cli_subscription" != "$azd_subscription" ]; then
    fail "the Azure CLI's subscription ($cli_subscription) is not the one azd deploys to ($azd_subscription). Run: az account set --subscription $azd_subscription"
  fi
fi

if [ "$(value SERVERLESSSERVE_SKIP_PREFLIGHT)" = "true" ]; then
  echo "preflight: SERVERLESSSERVE_SKIP_PREFLIGHT=true: the region and quota checks are skipped" >&2
else
  flex=$(az functionapp list-flexconsumption-locations --query "[].name" -o tsv) \
    || fail "could not list the Flex Consumption regions (is the Azure CLI signed in? az login)"
  if ! printf '%s\n' "$flex" | lower | tr -d ' \r' | grep -qx "$region"; then
    fail "region '$location' does not offer Flex Consumption, which the gateway and the admin app run on. Regions that do: $(printf '%s' "$flex" | tr '\n' ' ')"
  fi

  if [ "$(value SERVERLESSSERVE_GPU_ENABLED)" != "false" ]; then
    profile=$(value SERVERLESSSERVE_GPU_PROFILE_TYPE)
    [ -n "$profile" ] || profile=Consumption-GPU-NC8as-T4
    case "$profile" in
      *T4*) gpu=T4 ;;
      *A100*) gpu=A100 ;;
      *) fail "SERVERLESSSERVE_GPU_PROFILE_TYPE '$profile' is not a serverless GPU profile type the template knows (Consumption-GPU-NC8as-T4, Consumption-GPU-NC24-A100)" ;;
    esac
    supported=$(az containerapp env workload-profile list-supported -l "$location" --query "[].name" -o tsv) \
      || fail "could not list the Container Apps workload profiles of '$location'"
    if ! printf '%s\n' "$supported" | tr -d '\r' | grep -qx "$profile"; then
      fail "region '$location' does not offer the serverless GPU profile '$profile'. Pick a region that does, or run on CPU: azd env set SERVERLESSSERVE_GPU_ENABLED false"
    fi
    subscription=$(az account show --query id -o tsv) || fail "could not read the signed-in subscription"
    # One line per matching quota: name, current value, limit.
    quota=$(az rest --method get \
      --url "https://management.azure.com/subscriptions/$subscription/providers/Microsoft.App/locations/$region/usages?api-version=2025-01-01" \
      --query "value[?contains(name.value, '$gpu')].[name.value, currentValue, limit]" -o tsv) \
      || fail "could not read the Container Apps quotas of '$location'"
    if [ -z "$(printf '%s' "$quota" | tr -d ' \r\n')" ]; then
      fail "the subscription has no serverless $gpu GPU quota in '$location'. Request it (Quotas, provider Container Apps; docs/deploy.md, \"Region and quota\"), or run on CPU: azd env set SERVERLESSSERVE_GPU_ENABLED false"
    fi
    # The first matching quota decides; its limit must leave room for one more GPU.
    set -- $(printf '%s\n' "$quota" | head -n 1 | tr -d '\r')
    if [ "$#" -lt 3 ] || [ "${3%.*}" -le "${2%.*}" ]; then
      fail "the serverless $gpu GPU quota '${1:-?}' in '$location' is used up (${2:-?} of ${3:-?}). Request more, or run on CPU: azd env set SERVERLESSSERVE_GPU_ENABLED false"
    fi
    echo "preflight: '$location' offers Flex Consumption and $profile; GPU quota ${1}: ${2%.*} of ${3%.*} in use"
  else
    echo "preflight: '$location' offers Flex Consumption; inference runs on CPU (SERVERLESSSERVE_GPU_ENABLED=false)"
  fi
fi

# The vault's name is fixed by the environment, the region and the resource salt, so a soft-deleted one is this
# deployment's only when it carried this environment's azd-env-name tag and this application's tag (main.bicep's `tags`:
# another project may use the same environment name), was in this region, and carried serverlessserve-salt (absent on
# vaults deployed before it: the empty salt). Any other vault is not this deployment's: recovering it by this name would
# fail the deployment (before 2026-12-07 another project's vault, or this one's in another region, did).
mode=default
salt=$(value SERVERLESSSERVE_RESOURCE_SALT)
if [ -n "$env_name" ]; then
  deleted=$(az keyvault list-deleted --resource-type vault --query "[?properties.tags.\"azd-env-name\"=='$env_name' && properties.tags.application=='serverlessserve' && properties.location=='$region' && (properties.tags.\"serverlessserve-salt\" || '')=='$salt'].name" -o tsv 2>/dev/null || true)
  if [ -n "$(printf '%s' "$deleted" | tr -d ' \r\n')" ]; then
    mode=recover
    echo "preflight: Key Vault $(printf '%s' "$deleted" | tr -d '\r' | tr '\n' ' ') was left soft-deleted by an earlier azd down; this provision recovers it (its secrets come back with it)"
  fi
fi
azd env set SERVERLESSSERVE_KEY_VAULT_CREATE_MODE "$mode"

# An environment whose keys were seeded from another machine (a teammate's, or CI's, with `azd env new` of the same
# name): its vault is live, but this machine's azd environment does not know, and preprovision would seed new audit keys
# into it and replace the trusted model signer, so that no published model verified any more (found in review
# 2026-12-07). Stopped here, with how to carry the environment over; SERVERLESSSERVE_RESEED_KEYS=true replaces the keys.
# Not while this machine still holds keys it has not handed over: its own first provision failed after the vault was
# made (postprovision clears them only after a success), and provisioning again hands over the same keys.
held=""
if [ -n "$(value SERVERLESSSERVE_AUDIT_CHECKPOINT_KEY_PEM)" ] || { [ -n "$env_name" ] && [ -f ".azure/$env_name/keys/audit-checkpoint.key.pem" ]; }; then held=yes; fi
if [ "$mode" = default ] && [ -n "$env_name" ] && [ -z "$held" ] && [ "$(value SERVERLESSSERVE_KEYS_SEEDED)" != "true" ] && [ "$(value SERVERLESSSERVE_RESEED_KEYS)" != "true" ]; then
  # Under any salt: a second machine without this environment's salt would otherwise deploy a second set beside it.
  # Closed when it cannot look (the Azure CLI not signed in, as where CI skips the preflight's region checks): seeding
  # blind is what this check is for (review 2026-12-07).
  live=$(az keyvault list --query "[?tags.\"azd-env-name\"=='$env_name' && tags.application=='serverlessserve' && location=='$region'].[name, tags.\"serverlessserve-salt\"]" -o tsv 2>/dev/null) \
    || fail "could not list the Key Vaults to see whether azd environment '$env_name' is already deployed (is the Azure CLI signed in? az login). On its first provision, set SERVERLESSSERVE_RESEED_KEYS=true to go on without looking."
  live=$(printf '%s' "$live" | tr -d '\r')
  if [ -n "$(printf '%s' "$live" | tr -d ' \t\n')" ]; then
    names=$(printf '%s\n' "$live" | awk -F '\t' 'NF { printf "%s ", $1 }' | sed 's/ *$//')
    other=$(printf '%s\n' "$live" | awk -F '\t' -v salt="$salt" 'NF { s = ($2 == "None") ? "" : $2; if (s != salt) { printf "%s ", s } }' | sed 's/ *$//')
    if [ "$(printf '%s\n' "$live" | awk -F '\t' -v salt="$salt" 'NF { s = ($2 == "None") ? "" : $2; if (s != salt) n++ } END { print n + 0 }')" != 0 ]; then
      salt_note=" It was deployed under resource salt '$other', this machine's is '$salt': 'azd env refresh' takes that too (SERVERLESSSERVE_RESOURCE_SALT)."
    else
      salt_note=""
    fi
    fail "Key Vault $names of azd environment '$env_name' already holds its audit keys, seeded by the machine that first provisioned it, which this one's azd environment does not know. Provisioning from here would seed new ones and replace the trusted model signer. Run 'azd env refresh' to take the environment's values from its last deployment (or copy SERVERLESSSERVE_KEYS_SEEDED, SERVERLESSSERVE_KEYS_SEEDED_SALT, SERVERLESSSERVE_WITNESS_KEY_SEEDED, SERVERLESSSERVE_RESOURCE_SALT and SERVERLESSSERVE_MODEL_SIGNER_PUBLIC_KEY_PEM from that machine's .azure/$env_name/.env), or set SERVERLESSSERVE_RESEED_KEYS=true to replace the keys (every model must then be signed and published again).$salt_note"
  fi
fi

# Once postprovision has locked the audit retention policies, provisioning leaves them out of the template (Azure refuses
# to update a locked policy). A new salt names new accounts, whose containers need those policies from the template.
if [ "$(value SERVERLESSSERVE_AUDIT_RETENTION_LOCKED)" = "true" ] && [ "$(value SERVERLESSSERVE_AUDIT_RETENTION_LOCKED_SALT)" != "$salt" ]; then
  azd env set SERVERLESSSERVE_AUDIT_RETENTION_LOCKED false
  echo "preflight: the resource salt changed since the audit retention policies were locked: this provision declares the audit retention policies of the new accounts (unlocked; lock them as before)"
fi

# The inference image's ONNX Runtime follows SERVERLESSSERVE_GPU_ENABLED on every run while this hook chose it
# (SERVERLESSSERVE_ORT_FLAVOR_CHOSEN holds what it chose; a flavour set by hand since differs, and is kept). Chosen once, as before 2026-12-07, a first deployment on CPU kept its CPU
# image after the GPU was turned on, on a GPU profile with the CUDA provider asked for: every request refused, the GPU
# paid for (review). A flavour set by hand is kept, except a CPU image on the GPU, which stops here.
if [ "$(value SERVERLESSSERVE_GPU_ENABLED)" = "false" ]; then wanted=cpu; else wanted=gpu; fi
flavor=$(value SERVERLESSSERVE_ORT_FLAVOR)
chosen=$(value SERVERLESSSERVE_ORT_FLAVOR_CHOSEN)
# ("preflight": the marker of this hook's first form, on 2026-12-07, for whatever it chose.)
if [ -z "$flavor" ] || [ "$chosen" = "$flavor" ] || [ "$chosen" = "preflight" ]; then
  if [ "$flavor" != "$wanted" ]; then
    azd env set SERVERLESSSERVE_ORT_FLAVOR "$wanted"
    [ -z "$flavor" ] || echo "preflight: the inference image is built with the $wanted ONNX Runtime from now on (it was $flavor), as SERVERLESSSERVE_GPU_ENABLED says; the next deploy builds it"
  fi
  # What the hook chose: a flavour other than this one was set by hand, and is kept.
  azd env set SERVERLESSSERVE_ORT_FLAVOR_CHOSEN "$wanted"
elif [ "$flavor" = cpu ] && [ "$wanted" = gpu ]; then
  fail "SERVERLESSSERVE_ORT_FLAVOR=cpu builds the inference image without the CUDA provider, but the GPU is on (SERVERLESSSERVE_GPU_ENABLED), where the app asks for it and would refuse every request: azd env set SERVERLESSSERVE_ORT_FLAVOR gpu, or SERVERLESSSERVE_GPU_ENABLED false. (A flavour the hooks set before 2026-12-07 counts as set by hand: azd env set SERVERLESSSERVE_ORT_FLAVOR_CHOSEN cpu lets it follow the GPU setting.)"
fi
