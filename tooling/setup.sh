#!/usr/bin/env bash
# Sets up a fresh machine that has only Node 20+ and npm: pnpm 10, the workspace (which pins Node 24 for
# every `pnpm run` script), and the real services the integration tests start themselves
# (CNCF distribution registry, Redis, skopeo, htpasswd, openssl, chromium for the worker's status page, and
# python3 for one network fixture).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v skopeo >/dev/null 2>&1 || need+=(skopeo)
command -v htpasswd >/dev/null 2>&1 || need+=(apache2-utils)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# The worker's status page is tested in a real browser (playwright-core drives Debian's chromium; no download).
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# The HTTP engines' connect time-out is tested against a listener whose accept queue is full, which Python's
# socket.listen(0) makes and Node cannot (packages/registry/src/http-engine.test.ts).
command -v python3 >/dev/null 2>&1 || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${need[*]} with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "setup: missing ${need[*]}; install them (Debian: apt-get install ${need[*]}) to run the integration tests" >&2
  fi
fi

if ! pnpm --version 2>/dev/null | grep -q '^10\.'; then
  echo "setup: installing pnpm 10 with npm"
  npm install --global --no-fund --no-audit pnpm@10 >/dev/null
fi

if [ "${CI:-}" = true ]; then
  pnpm install --frozen-lockfile
else
  pnpm install
fi
