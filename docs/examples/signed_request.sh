#!/usr/bin/env bash
# Send one signed request to a ServerlessServe model whose policy requires signatures (docs/identity.md),
# with curl and openssl only.
#
# usage: signed_request.sh URL PRIVATE_KEY_PEM KEY_ID BODY_FILE
# The caller token is read from $SERVERLESSSERVE_TOKEN. Prints the response body, then "HTTP <status>".
set -euo pipefail
url=$1 key=$2 keyid=$3 body=$4
auth="Bearer $SERVERLESSSERVE_TOKEN"

digest="sha-256=:$(openssl dgst -sha256 -binary "$body" | base64 -w0):"
created=$(date +%s)
nonce=$(openssl rand -base64 18 | tr '+/' '-_')   # 24 characters, base64url, never reused
params="(\"@method\" \"@target-uri\" \"content-digest\" \"authorization\");created=$created;keyid=\"$keyid\";nonce=\"$nonce\";alg=\"ecdsa-p256-sha256\""
base=$(printf '"@method": POST\n"@target-uri": %s\n"content-digest": %s\n"authorization": %s\n"@signature-params": %s' \
  "$url" "$digest" "$auth" "$params")

# openssl writes a DER signature (a SEQUENCE of r and s); RFC 9421 wants r || s, 32 bytes each.
signature=$(printf '%s' "$base" | openssl dgst -sha256 -sign "$key" \
  | openssl asn1parse -inform DER \
  | awk -F: '/INTEGER/ { v = $NF; while (length(v) < 64) v = "0" v; printf "%s", substr(v, length(v) - 63) }' \
  | xxd -r -p | base64 -w0)

curl -sS -X POST "$url" \
  -H "Authorization: $auth" -H "Content-Type: application/json" \
  -H "Content-Digest: $digest" -H "Signature-Input: sig1=$params" -H "Signature: sig1=:$signature:" \
  --data-binary @"$body" -w '\nHTTP %{http_code}\n'
