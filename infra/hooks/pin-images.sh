#!/bin/sh
# Pins the base images of infra/images.lock by digest: asks each image's registry (anonymously, over HTTPS) for the
# digest its tag points at now and writes it into the lock. Only empty digests are resolved, unless --update is given.
# With --azd, also hands the pinned references (name:tag@sha256:...) to azd as the build arguments azure.yaml passes
# (SERVERLESSSERVE_SDK_IMAGE, SERVERLESSSERVE_FUNCTIONS_IMAGE, SERVERLESSSERVE_CUDA_IMAGE, SERVERLESSSERVE_RUNTIME_IMAGE).
# Fails, naming the image, when a digest cannot be resolved: nothing is ever built from a bare tag.
set -eu

lock=${SERVERLESSSERVE_IMAGES_LOCK:-"$(dirname "$0")/../images.lock"}
update=false
azd_env=false
for arg in "$@"; do
  case "$arg" in
    --update) update=true ;;
    --azd) azd_env=true ;;
    *) echo "pin-images: unknown argument $arg" >&2; exit 2 ;;
  esac
done

accept='application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json'

# digest IMAGE(name:tag) -> sha256:... from the registry's Docker-Content-Digest header.
digest() {
  ref=$1
  name=${ref%:*}
  tag=${ref##*:}
  case "$name" in
    */*.*/* | *.*/*) host=${name%%/*}; repo=${name#*/}; auth= ;;
    */*) host=registry-1.docker.io; repo=$name
      token=$(curl -fsS "https://auth.docker.io/token?service=registry.docker.io&scope=repository:$repo:pull" | sed -n 's/.*"token" *: *"\([^"]*\)".*/\1/p')
      auth="Authorization: Bearer $token" ;;
    *) host=registry-1.docker.io; repo="library/$name"
      token=$(curl -fsS "https://auth.docker.io/token?service=registry.docker.io&scope=repository:$repo:pull" | sed -n 's/.*"token" *: *"\([^"]*\)".*/\1/p')
      auth="Authorization: Bearer $token" ;;
  esac
  if [ -n "$auth" ]; then
    headers=$(curl -fsSI -H "Accept: $accept" -H "$auth" "https://$host/v2/$repo/manifests/$tag")
  else
    headers=$(curl -fsSI -H "Accept: $accept" "https://$host/v2/$repo/manifests/$tag")
  fi
  printf '%s\n' "$headers" | tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: *\(sha256:[0-9a-f]\{64\}\)$/\1/p' | head -n 1
}

tmp="$lock.tmp"
: >"$tmp"
changed=0
while IFS= read -r line || [ -n "$line" ]; do
  case "$line" in
    *_IMAGE=*)
      key=${line%%=*}
      eval "$line"
      printf '%s\n' "$line" >>"$tmp" ;;
    *_IMAGE_DIGEST=*)
      key=${line%%_DIGEST=*}
      current=${line#*=}
      eval "image=\$$key"
      if [ -z "$current" ] || [ "$update" = true ]; then
        resolved=$(digest "$image") || resolved=
        [ -n "$resolved" ] || { rm -f "$tmp"; echo "pin-images: could not resolve the digest of $image (no network, or the tag is gone)" >&2; exit 1; }
        if [ "$resolved" != "$current" ]; then
          changed=$((changed + 1))
          echo "pin-images: $image -> $resolved"
        fi
        current=$resolved
      fi
      printf '%s=%s\n' "${line%%=*}" "$current" >>"$tmp" ;;
    *) printf '%s\n' "$line" >>"$tmp" ;;
  esac
done <"$lock"
mv "$tmp" "$lock"
[ "$changed" -eq 0 ] || echo "pin-images: $changed digest(s) written to $lock; commit it so every build uses them"

if [ "$azd_env" = true ]; then
  . "$lock"
  azd env set SERVERLESSSERVE_SDK_IMAGE "$SDK_IMAGE@$SDK_IMAGE_DIGEST"
  azd env set SERVERLESSSERVE_RUNTIME_IMAGE "$RUNTIME_IMAGE@$RUNTIME_IMAGE_DIGEST"
  azd env set SERVERLESSSERVE_FUNCTIONS_IMAGE "$FUNCTIONS_IMAGE@$FUNCTIONS_IMAGE_DIGEST"
  azd env set SERVERLESSSERVE_CUDA_IMAGE "$CUDA_IMAGE@$CUDA_IMAGE_DIGEST"
fi
