#!/bin/sh
# Publishes the sample models so that `azd up` ends with them served (run by postprovision.sh; SERVERLESSSERVE_PUBLISH_SAMPLES=false
# skips it). Builds the samples with `ssctl model samples` and signs each version here with the environment's model
# signing key (`ssctl model pack`: the key never leaves this machine). Then:
# - with the VNet (the models container has no public endpoint): builds the publisher image in the registry from a
#   context of the repository's tracked files and the packages (az acr build: nothing large is pushed from here, and
#   no file outside git, such as .azure/, is sent), points the publish job at it and runs the job, which verifies each
#   package against the signer's public key and uploads it from inside the VNet; waits for it and reports;
# - without it (or with SERVERLESSSERVE_PUBLISH_MODELS=true, on a machine that reaches the private endpoint):
#   publishes the same packages from here with `ssctl model publish-packages`.
# A version already published is skipped, so running it again is harmless.
set -eu

value() { azd env get-value "$1" 2>/dev/null || true; }
ssctl() { dotnet run --project tools/ServerlessServe.Cli -- "$@"; }

if [ "$(value SERVERLESSSERVE_PUBLISH_SAMPLES)" = "false" ]; then
  echo "SERVERLESSSERVE_PUBLISH_SAMPLES=false: sample models not published."
  exit 0
fi

env_name=$(value AZURE_ENV_NAME)
[ -n "$env_name" ] || env_name=${AZURE_ENV_NAME:?AZURE_ENV_NAME is not set}
state=".azure/$env_name"
signer_pub="$state/keys/model-signing.pub.pem"
if [ ! -f "$state/keys/model-signing.key.pem" ]; then
  echo "No model signing key in $state/keys (a signer of your own is set): sign and publish your models yourself (docs/deploy.md, \"Publishing models\")."
  exit 0
fi
# The key the deployment trusts may be a signer of your own (SERVERLESSSERVE_MODEL_SIGNER_PUBLIC_KEY_PEM set before the
# first azd up, or rotated since): the generated key then signs nothing the apps would serve, and the job would refuse it.
if [ "$(base64 <"$signer_pub" | tr -d '\n\r')" != "$(value SERVERLESSSERVE_MODEL_SIGNER_PUBLIC_KEY_PEM)" ]; then
  echo "The deployment trusts a model signer of your own, not the generated key in $state/keys: sample models not published; sign and publish your models yourself (docs/deploy.md, \"Publishing models\")."
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ssctl model samples "$work/samples" >/dev/null
mkdir -p "$work/context/packages"
for dir in "$work/samples"/*/*/; do
  [ -f "$dir/model.onnx" ] || continue
  version=$(basename "$dir")
  name=$(basename "$(dirname "$dir")")
  ssctl model pack "$dir" --name "$name" --version "$version" --state "$state" --out "$work/context/packages/$name-$version.zip" >/dev/null
  echo "Signed $name $version"
done

if [ "$(value SERVERLESSSERVE_VNET_ENABLED)" = "false" ] || [ "$(value SERVERLESSSERVE_PUBLISH_MODELS)" = "true" ]; then
  ssctl model publish-packages "$work/context/packages" --blob-uri "$(value AZURE_STORAGE_BLOB_ENDPOINT)" --trusted-key "$signer_pub"
  exit 0
fi

registry=$(value AZURE_CONTAINER_REGISTRY_NAME)
job=$(value SERVERLESSSERVE_PUBLISH_JOB_NAME)
group=$(value AZURE_RESOURCE_GROUP)
[ -n "$registry" ] && [ -n "$job" ] && [ -n "$group" ] \
  || { echo "publish: the registry, job or resource group is not in the azd environment; provision first." >&2; exit 1; }

# The image's base images, pinned by digest (infra/images.lock, kept by pin-images.sh).
sh "$(dirname "$0")/pin-images.sh" >/dev/null
. "$(dirname "$0")/../images.lock"
# To a file first: in a pipe, a failed git archive (a workspace without a commit) would go unnoticed.
git archive --format=tar --output "$work/source.tar" HEAD
tar -x -f "$work/source.tar" -C "$work/context"
printf '**/bin/\n**/obj/\n' >"$work/context/.dockerignore"
tag="publisher:$(date -u +%Y%m%d%H%M%S)"
echo "Building $tag in $registry (remote build)"
az acr build --registry "$registry" --image "$tag" --file tools/ServerlessServe.Cli/Dockerfile.publisher \
  --build-arg "SDK_IMAGE=$SDK_IMAGE@$SDK_IMAGE_DIGEST" --build-arg "RUNTIME_IMAGE=$RUNTIME_IMAGE@$RUNTIME_IMAGE_DIGEST" \
  "$work/context" >"$work/build.log" 2>&1 \
  || { cat "$work/build.log" >&2; echo "publish: the publisher image did not build in $registry" >&2; exit 1; }
image="$(az acr show --name "$registry" --query loginServer -o tsv)/$tag"
azd env set SERVERLESSSERVE_PUBLISHER_IMAGE_NAME "$image"
az containerapp job update --name "$job" --resource-group "$group" --image "$image" >/dev/null
execution=$(az containerapp job start --name "$job" --resource-group "$group" --query name -o tsv)
echo "Publishing from inside the VNet: job $job, execution $execution"
status=Running
tries=0
while [ "$status" = "Running" ] || [ "$status" = "Processing" ] || [ -z "$status" ]; do
  tries=$((tries + 1))
  [ "$tries" -le 186 ] || { echo "publish: execution $execution still $status after 31 minutes (the job's replica timeout is 30); see: az containerapp job execution show -n $job -g $group --job-execution-name $execution" >&2; exit 1; }
  sleep 10
  # A failed poll (throttled, a network blip) is asked again, as an empty status.
  status=$(az containerapp job execution show --name "$job" --resource-group "$group" --job-execution-name "$execution" --query properties.status -o tsv) || status=""
done
if [ "$status" != "Succeeded" ]; then
  echo "publish: execution $execution ended $status; its log: az containerapp job logs show -n $job -g $group --execution $execution --container publish" >&2
  exit 1
fi
echo "Sample models published (execution $execution)."
