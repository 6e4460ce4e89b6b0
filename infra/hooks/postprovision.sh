#!/bin/sh
# azd postprovision hook (POSIX):
# - forgets the secrets handed to this provision and deletes their files (they are in Key Vault now);
#   public keys and the model-signing private key stay in .azure/<env>/keys;
# - with SERVERLESSSERVE_LOCK_AUDIT_RETENTION=true, locks the time-based retention policies of `audit` and
#   `audit-witness` (irreversible: docs/deploy.md, "Data protection and audit"); idempotent; once one is locked, sets
#   SERVERLESSSERVE_AUDIT_RETENTION_LOCKED=true so that later provisions leave both policies out of the template (Azure
#   refuses to update a locked policy);
# - warns when the gateway's default host name is not the public origin signed requests are checked against;
# - publishes the sample models (publish-samples.sh): signed here, uploaded by the publish job inside the VNet.
set -eu

value() { azd env get-value "$1" 2>/dev/null || true; }

for name in SERVERLESSSERVE_AUDIT_PSEUDONYM_KEY SERVERLESSSERVE_AUDIT_CHECKPOINT_KEY_PEM SERVERLESSSERVE_AUDIT_WITNESS_KEY_PEM; do
  if [ -n "$(value "$name")" ]; then azd env set "$name" ""; fi
done
env_name=$(value AZURE_ENV_NAME)
[ -n "$env_name" ] || env_name=${AZURE_ENV_NAME:-}
if [ -n "$env_name" ]; then
  for file in audit-pseudonym.key audit-checkpoint.key.pem audit-witness.key.pem managed-identity.secret; do
    rm -f ".azure/$env_name/keys/$file"
  done
fi
azd env set SERVERLESSSERVE_KEYS_SEEDED true
azd env set SERVERLESSSERVE_WITNESS_KEY_SEEDED true
# A reseed asked for (SERVERLESSSERVE_RESEED_KEYS, preflight.sh) is done: the next provision reseeds nothing.
if [ "$(value SERVERLESSSERVE_RESEED_KEYS)" = "true" ]; then azd env set SERVERLESSSERVE_RESEED_KEYS false; fi
# The salt whose Key Vault holds the seeded secrets: a new salt makes preprovision seed the new vault.
azd env set SERVERLESSSERVE_KEYS_SEEDED_SALT "$(value SERVERLESSSERVE_RESOURCE_SALT)"

# A locked policy can only be extended: every later provision must leave the policies out of the template
# (auditRetentionLocked), or Azure refuses the deployment. Recorded with the salt that named the locked accounts:
# preflight forgets it under a new salt, whose new accounts need their policies from the template.
record_lock() {
  azd env set SERVERLESSSERVE_AUDIT_RETENTION_LOCKED true
  azd env set SERVERLESSSERVE_AUDIT_RETENTION_LOCKED_SALT "$(value SERVERLESSSERVE_RESOURCE_SALT)"
}

# Locks one container's retention policy with the policy's current etag; a locked policy is left as it is.
# Through Azure Resource Manager (az CLI, the operator's login), so it works with the accounts' public access off.
lock_retention() {
  account=$1 container=$2 group=$3
  if [ -z "$account" ] || [ -z "$group" ]; then
    echo "Retention lock: account or resource group unknown for '$container'; run 'azd provision' first." >&2
    return 1
  fi
  state=$(az storage container immutability-policy show --account-name "$account" --container-name "$container" \
    --resource-group "$group" --query state --output tsv) || {
    echo "Retention lock: cannot read the retention policy of $account/$container (az login? Reader on the account?)." >&2
    return 1
  }
  case "$state" in
    Locked)
      echo "Retention lock: $account/$container is already locked; nothing to do."
      record_lock
      return 0 ;;
    Unlocked) ;;
    *)
      echo "Retention lock: $account/$container has no time-based retention policy (state '$state'); not locking." >&2
      if [ "$(value SERVERLESSSERVE_AUDIT_RETENTION_LOCKED)" = "true" ]; then
        echo "Retention lock: SERVERLESSSERVE_AUDIT_RETENTION_LOCKED=true leaves the policies out of the template; for new accounts run 'azd env set SERVERLESSSERVE_AUDIT_RETENTION_LOCKED false' and 'azd provision'." >&2
      fi
      return 1 ;;
  esac
  etag=$(az storage container immutability-policy show --account-name "$account" --container-name "$container" \
    --resource-group "$group" --query etag --output tsv)
  echo "Retention lock: locking $account/$container (etag $etag). From now on its retention can only be extended."
  az storage container immutability-policy lock --account-name "$account" --container-name "$container" \
    --resource-group "$group" --if-match "$etag" --output none
  record_lock
  echo "Retention lock: $account/$container locked."
}

if [ "$(value SERVERLESSSERVE_LOCK_AUDIT_RETENTION)" = "true" ]; then
  group=$(value AZURE_RESOURCE_GROUP)
  audit_container=$(value SERVERLESSSERVE_AUDIT_CONTAINER)
  witness_container=$(value SERVERLESSSERVE_AUDIT_WITNESS_CONTAINER)
  lock_retention "$(value AZURE_STORAGE_ACCOUNT_NAME)" "${audit_container:-audit}" "$group"
  lock_retention "$(value SERVERLESSSERVE_AUDIT_WITNESS_ACCOUNT_NAME)" "${witness_container:-audit-witness}" "$group"
else
  echo "Audit retention policies stay unlocked (set SERVERLESSSERVE_LOCK_AUDIT_RETENTION=true and run 'azd hooks run postprovision' to lock them)."
fi

# Signed requests are checked against SERVERLESSSERVE_SIGNATURES_PUBLIC_BASE_URL; with no custom origin it must be
# the gateway's default host name, which Azure may choose otherwise (a unique default host name).
public_base=$(value SERVERLESSSERVE_SIGNATURES_PUBLIC_BASE_URL)
gateway_uri=$(value SERVICE_GATEWAY_URI)
case "$public_base" in
  *.azurewebsites.net)
    case "$gateway_uri" in
      "$public_base"/*) ;;
      *) echo "Warning: the gateway is served at $gateway_uri but signed requests are checked against $public_base; set gatewayPublicBaseUrl (SERVERLESSSERVE_GATEWAY_PUBLIC_BASE_URL) to its origin and provision again." >&2 ;;
    esac ;;
esac

sh "$(dirname "$0")/publish-samples.sh"
