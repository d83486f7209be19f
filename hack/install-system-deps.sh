#!/usr/bin/env bash
# Install the Debian packages the test bed runs for real: redis-server, openssh-server (sshd for
# the SSH Git server), git, openssl. Idempotent: installs only what is missing. Go (>= 1.26) must
# already be on PATH to build the control plane; it is not taken from Debian (too old there).
set -euo pipefail

need=()
command -v redis-server >/dev/null || need+=(redis-server)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh-keygen >/dev/null || need+=(openssh-client)
command -v git >/dev/null || need+=(git)
command -v openssl >/dev/null || need+=(openssl)

if [ ${#need[@]} -gt 0 ]; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get install -y --no-install-recommends "${need[@]}" \
    || { "${sudo[@]}" apt-get update && "${sudo[@]}" apt-get install -y --no-install-recommends "${need[@]}"; }
fi

if ! command -v go >/dev/null; then
  echo "error: no 'go' on PATH: Go >= 1.26 builds the test control plane (or set KUBEBUILDER_ASSETS)" >&2
  exit 1
fi
