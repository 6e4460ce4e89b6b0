#!/bin/sh
# azd preprovision hook (POSIX). Runs before every `azd provision`/`azd up`:
# - picks the inference image flavour (gpu/cpu) from SERVERLESSSERVE_GPU_ENABLED unless set;
# - on the first provision of an azd environment, generates the audit pseudonymisation key and the
#   service-token key (32 random bytes each) so that Bicep writes them to Key Vault through ARM.
#   postprovision removes them from the azd environment again: afterwards they live only in Key Vault.
set -eu

value() { azd env get-value "$1" 2>/dev/null || true; }

if [ -z "$(value SERVERLESSSERVE_ORT_FLAVOR)" ]; then
  if [ "$(value SERVERLESSSERVE_GPU_ENABLED)" = "false" ]; then flavor=cpu; else flavor=gpu; fi
  azd env set SERVERLESSSERVE_ORT_FLAVOR "$flavor"
fi

if [ "$(value SERVERLESSSERVE_KEYS_SEEDED)" != "true" ]; then
  for name in SERVERLESSSERVE_AUDIT_PSEUDONYM_KEY SERVERLESSSERVE_SERVICE_TOKEN_KEY; do
    if [ -z "$(value "$name")" ]; then
      azd env set "$name" "$(openssl rand -base64 32)"
    fi
  done
  echo "Generated first-time keys; provisioning stores them in Key Vault."
fi
