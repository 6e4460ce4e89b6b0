#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run): one build of the solution (warnings are errors, from
# Directory.Build.props), then every test project at once without building again. The tests start their own Azurite,
# apps and, for the second integration lane, the real Functions host (docs/design.md). Extra arguments go to
# `dotnet test` (for example --filter).
#
# Built first and tested with --no-build, so that no test project waits for a build node held by another project's
# test run: within one `dotnet test` that builds, the two integration lanes (the longest, independent of each other)
# sometimes ran one after the other, and CI took 19.8 instead of 18 minutes.
set -euo pipefail
cd "$(dirname "$0")"
dotnet build ServerlessServe.sln --nologo -v minimal
# -m:8: a node for each of the seven test projects.
exec dotnet test ServerlessServe.sln --no-build -m:8 "$@"
