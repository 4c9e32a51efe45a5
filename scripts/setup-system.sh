#!/usr/bin/env bash
# Installs every system package the tests, benchmarks and the demo use, on Debian 12 or Ubuntu 22.04+, as root.
# Idempotent: a second run installs nothing.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then echo "setup-system.sh: run as root (it installs packages with apt-get)" >&2; exit 2; fi
PKGS=(
  docker-registry skopeo umoci busybox-static apache2-utils containerd runc
  openssh-server openssh-client sshpass sudo iproute2 debootstrap dpkg-dev apt-utils gnupg
  debian-archive-keyring ansible-core python3-venv python3-pip
  python3-netaddr python3-jinja2 python3-markupsafe python3-yaml python3-cryptography python3-packaging
  python3-resolvelib python3-cffi python3-pycparser
  curl ca-certificates xz-utils zstd openssl util-linux procps time tinyproxy nginx
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-system.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Services from these packages (registry, sshd, containerd, tinyproxy, nginx) are started by the tests on loopback, never here.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  for svc in docker-registry ssh containerd tinyproxy nginx; do
    systemctl disable --now "$svc" >/dev/null 2>&1 || true
  done
fi
