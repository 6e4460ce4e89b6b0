#!/bin/sh
# azd predown hook (POSIX). `azd down` deletes the resource group; it cannot delete what protects the audit trail, and
# would stop half-way, with some resources gone and others not. So this hook looks first and stops, saying what to do:
# - a management lock in the group (the data account's CanNotDelete lock): azd down fails on it. Remove it only when
#   the audit log may really go: az lock delete --ids <id>;
# - even without the lock, blobs under a time-based retention policy (audit, audit-witness, model versions) cannot be
#   deleted before they expire, and an account holding them cannot be deleted either; with a locked policy nothing can
#   shorten that. The Key Vault is only soft-deleted (purge protection) and a later provision recovers it.
# To deploy again beside what cannot be deleted yet: azd env set SERVERLESSSERVE_RESOURCE_SALT <new value>.
# SERVERLESSSERVE_DOWN_CONFIRMED=true skips the check (for a group known to hold nothing protected).
set -eu

value() { azd env get-value "$1" 2>/dev/null || true; }

if [ "$(value SERVERLESSSERVE_DOWN_CONFIRMED)" = "true" ]; then
  echo "predown: SERVERLESSSERVE_DOWN_CONFIRMED=true: not checking for locks and retained data" >&2
  exit 0
fi

group=$(value AZURE_RESOURCE_GROUP)
[ -n "$group" ] || exit 0
if ! locks=$(az lock list --resource-group "$group" --query "[].[name, id]" -o tsv); then
  # A group deleted already (a partial teardown, or by hand) has nothing left to protect: azd down may go on.
  if [ "$(az group exists --name "$group" 2>/dev/null | tr -d '\r')" = "false" ]; then
    echo "predown: $group does not exist any more; nothing to check" >&2
    exit 0
  fi
  echo "predown: could not list the locks of $group (is the Azure CLI signed in? az login)" >&2
  exit 1
fi
if [ -n "$(printf '%s' "$locks" | tr -d ' \r\n')" ]; then
  {
    echo "predown: azd down would stop half-way: $group holds locks that protect the audit trail:"
    printf '%s\n' "$locks" | tr -d '\r' | while IFS="$(printf '\t')" read -r name id; do echo "  $name  $id"; done
    echo "Only if the audit log and models may really go: remove each lock (az lock delete --ids <id>) and run azd down again."
    echo "Blobs still under retention (audit, audit-witness, model versions) keep their account until they expire."
    echo "To deploy again beside them instead: azd env set SERVERLESSSERVE_RESOURCE_SALT <new value>; azd up"
    echo "(docs/deploy.md, \"Tearing down\")."
  } >&2
  exit 1
fi
echo "predown: no locks in $group; note that an account holding blobs under retention cannot be deleted before they expire."
