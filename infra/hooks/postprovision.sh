#!/bin/sh
# azd postprovision hook (POSIX):
# - forgets the secrets handed to this provision and deletes their files (they are in Key Vault now);
#   public keys and the model-signing private key stay in .azure/<env>/keys;
# - publishes the sample models with ssctl when the models container is reachable from here.
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

blob_uri=$(value SERVERLESSSERVE_MODELS_BLOB_URI)
samples=$(value SERVERLESSSERVE_SAMPLE_MODELS_DIR)
[ -n "$samples" ] || samples=samples/models

# With the VNet the storage account has no public endpoint: publish from inside the network, or set
# SERVERLESSSERVE_PUBLISH_MODELS=true where this machine can reach the private endpoint.
if [ "$(value SERVERLESSSERVE_VNET_ENABLED)" != "false" ] && [ "$(value SERVERLESSSERVE_PUBLISH_MODELS)" != "true" ]; then
  echo "Models container is private; skipping sample publication. From a machine in the VNet run:"
  echo "  dotnet run --project tools/ServerlessServe.Cli -- model publish <model-dir> --blob-uri $blob_uri"
  exit 0
fi

if [ ! -d "$samples" ]; then
  echo "No sample models in $samples; nothing to publish."
  exit 0
fi

for dir in "$samples"/*/; do
  [ -d "$dir" ] || continue
  echo "Publishing ${dir%/}"
  dotnet run --project tools/ServerlessServe.Cli -- model publish "${dir%/}" --blob-uri "$blob_uri"
done
