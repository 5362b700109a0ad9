#!/usr/bin/env bash
# One install for a fresh Debian/Ubuntu machine, used by the README and by .ci/run alike:
#   1. Debian packages: headless Jupyter (runs notebooks in tests), the classic notebook app (browser
#      check), Chromium (figures to PNG), OpenBLAS (optional native matmul for training), pymatgen
#      (peer checks in tests only);
#   2. npm ci (postinstall compiles lib/ and, when g++ and OpenBLAS are there, the BLAS addon);
#   3. the tslab kernelspec inside the project (.jupyter/).
# apt runs only for missing packages, as root or through passwordless sudo; otherwise it prints the
# command to run and goes on (npm run reproduce then needs only Chromium for its PNGs).
set -euo pipefail
cd "$(dirname "$0")/.."
APT_PACKAGES=(jupyter-nbconvert python3-nbclient python3-ipykernel jupyter-client jupyter-core
  jupyter-notebook chromium libopenblas-dev ca-certificates python3-pymatgen)

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "== apt: installing ${missing[*]}"
  if [ "$(id -u)" = 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo"; else sudo="none"; fi
  if [ "$sudo" = none ]; then
    echo "install.sh: not root and no passwordless sudo; run this, then rerun:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  else
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
else
  echo "== apt: all Debian packages present"
fi

echo "== npm ci"
npm ci --no-audit --no-fund
echo "== kernel"
npm run --silent kernel:install
