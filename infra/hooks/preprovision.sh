#!/bin/sh
# azd preprovision hook (POSIX). Runs before every `azd provision`/`azd up`:
# - runs the preflight (preflight.sh): region, GPU profile and quota, a soft-deleted Key Vault to recover, a live one
#   seeded from another machine, the audiences no app starts without, the inference image's ONNX Runtime flavour;
# - hands the digest-pinned base images to azd as build arguments (pin-images.sh);
# - on the first provision of an azd environment, creates its keys with
#   `ssctl keys create --state .azure/<env>` (ECDSA P-256 key pairs and the 32-byte audit pseudonym key,
#   in .azure/<env>/keys) and hands them to Bicep through the azd environment:
#   - the model signer's public key as a plain parameter; a model signer key you set beforehand is kept
#     (callers need no key here: their tokens are checked against Entra ID's metadata; the gateway's tokens for
#     the inference app come from its managed identity, no key either);
#   - the three secrets (audit pseudonym key, audit checkpoint key, audit witness key) as secure parameters that
#     Bicep writes to Key Vault through ARM. postprovision forgets them and deletes their files: afterwards they
#     live only in Key Vault.
# - in an environment seeded before the audit witness was deployed (SERVERLESSSERVE_WITNESS_KEY_SEEDED unset), creates
#   the witness key alone, in a scratch state folder so that no other key file of the environment is touched, and
#   hands it over the same way.
# PEMs are stored base64-encoded (azd environment values are single-line); Bicep decodes them.
# No key material is printed.
set -eu

value() { azd env get-value "$1" 2>/dev/null || true; }
b64() { base64 <"$1" | tr -d '\n\r'; }

sh "$(dirname "$0")/preflight.sh"
# Base images pinned by digest for the remote image builds (fills an empty digest of infra/images.lock).
sh "$(dirname "$0")/pin-images.sh" --azd


seeded=$(value SERVERLESSSERVE_KEYS_SEEDED)
witness_seeded=$(value SERVERLESSSERVE_WITNESS_KEY_SEEDED)
env_name=$(value AZURE_ENV_NAME)
[ -n "$env_name" ] || env_name=${AZURE_ENV_NAME:?AZURE_ENV_NAME is not set}
keys=".azure/$env_name/keys"
# A new resource salt names a new Key Vault, empty: the secrets seeded into the old one (and deleted here since) must be
# made again for it. The old public halves are kept beside, for verifying the old deployment's audit trail.
if [ "$seeded" = "true" ] && [ "$(value SERVERLESSSERVE_KEYS_SEEDED_SALT)" != "$(value SERVERLESSSERVE_RESOURCE_SALT)" ]; then
  previous="$keys/before-salt-$(date -u +%Y%m%d%H%M%S)"
  mkdir -p "$previous"
  for file in "$keys"/*.pub.pem; do [ -f "$file" ] && cp "$file" "$previous/"; done
  rm -f "$keys/audit-checkpoint.pub.pem" "$keys/audit-witness.pub.pem"
  echo "The resource salt changed since the keys were seeded: new audit keys for the new Key Vault (the old public keys are in $previous)."
  seeded=""
  witness_seeded=""
fi
if [ "$seeded" = "true" ] && [ "$witness_seeded" = "true" ]; then
  exit 0
fi

umask 077
if [ "$seeded" = "true" ]; then
  # Seeded before the witness: `keys create` here would recreate the deleted secret keys (moving their public halves
  # aside), so the witness key is made in a scratch state and only its two files are kept.
  scratch=$(mktemp -d)
  # The scratch state holds a full set of private keys: never left behind, whatever fails.
  trap 'rm -rf "$scratch"' EXIT
  dotnet run --project tools/ServerlessServe.Cli -- keys create --state "$scratch" >/dev/null
  mkdir -p "$keys"
  cp "$scratch/keys/audit-witness.key.pem" "$scratch/keys/audit-witness.pub.pem" "$keys/"
  rm -rf "$scratch"
  created="the audit witness key"
else
  dotnet run --project tools/ServerlessServe.Cli -- keys create --state ".azure/$env_name" >/dev/null
  created="first-time keys"
  azd env set SERVERLESSSERVE_AUDIT_PSEUDONYM_KEY "$(tr -d '\n\r' <"$keys/audit-pseudonym.key")"
  azd env set SERVERLESSSERVE_AUDIT_CHECKPOINT_KEY_PEM "$(b64 "$keys/audit-checkpoint.key.pem")"
  # Your own model signer, if already set, is kept.
  if [ -z "$(value SERVERLESSSERVE_MODEL_SIGNER_PUBLIC_KEY_PEM)" ]; then
    azd env set SERVERLESSSERVE_MODEL_SIGNER_PUBLIC_KEY_PEM "$(b64 "$keys/model-signing.pub.pem")"
  fi
fi
# The witness key is generated on its own, never derived from or equal to the checkpoint key (the sink refuses that).
azd env set SERVERLESSSERVE_AUDIT_WITNESS_KEY_PEM "$(b64 "$keys/audit-witness.key.pem")"
echo "Created $created in $keys; provisioning stores the secret ones in Key Vault."
