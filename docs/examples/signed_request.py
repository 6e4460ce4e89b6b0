#!/usr/bin/env python3
"""Send one signed request to a ServerlessServe model whose policy requires signatures (docs/identity.md).

usage: signed_request.py URL PRIVATE_KEY_PEM KEY_ID BODY_FILE
The caller token is read from $SERVERLESSSERVE_TOKEN. Needs the `cryptography` package.
Prints the HTTP status on the first line and the response body after it; exits 0 on a 2xx answer.
"""
import base64
import hashlib
import os
import secrets
import sys
import time
import urllib.error
import urllib.request

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils


def signature_headers(method, url, body, authorization, key, key_id, created=None, nonce=None):
    """Content-Digest, Signature-Input and Signature (RFC 9421, ecdsa-p256-sha256) for one request."""
    digest = "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"
    created = int(time.time()) if created is None else created
    nonce = nonce or secrets.token_urlsafe(16)  # 22 characters, never reused
    params = ('("@method" "@target-uri" "content-digest" "authorization")'
              f';created={created};keyid="{key_id}";nonce="{nonce}";alg="ecdsa-p256-sha256"')
    signature_base = "\n".join([
        f'"@method": {method.upper()}',
        f'"@target-uri": {url}',
        f'"content-digest": {digest}',
        f'"authorization": {authorization}',
        f'"@signature-params": {params}',
    ])
    der = key.sign(signature_base.encode("ascii"), ec.ECDSA(hashes.SHA256()))
    r, s = utils.decode_dss_signature(der)  # RFC 9421 wants r || s, 32 bytes each, not DER
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return {
        "Content-Digest": digest,
        "Signature-Input": "sig1=" + params,
        "Signature": "sig1=:" + base64.b64encode(raw).decode("ascii") + ":",
    }


def main(url, key_file, key_id, body_file):
    with open(key_file, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    with open(body_file, "rb") as f:
        body = f.read()
    authorization = "Bearer " + os.environ["SERVERLESSSERVE_TOKEN"]
    headers = {"Authorization": authorization, "Content-Type": "application/json"}
    headers.update(signature_headers("POST", url, body, authorization, key, key_id))
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    print(status)
    print(text)
    return 0 if 200 <= status < 300 else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
