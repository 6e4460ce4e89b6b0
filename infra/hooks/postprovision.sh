#!/bin/sh
# azd postprovision hook (POSIX):
# - forgets the secrets handed to this provision and deletes their files (they are in Key Vault now);
#   public keys and the model-signing private key stay in .azure/<env>/keys;
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

sh "$(dirname "$0")/publish-samples.sh"
