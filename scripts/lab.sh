#!/usr/bin/env bash
# `npm run lab`: JupyterLab on notebooks/ with the project's tslab kernel (kernelspec in .jupyter/).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export JUPYTER_PATH="$root/.jupyter/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
[ -f "$root/.jupyter/share/jupyter/kernels/tslab/kernel.json" ] || node "$root/scripts/install-kernel.mjs"
if ! command -v jupyter-lab >/dev/null 2>&1; then
  echo "JupyterLab is not installed. Install it once, e.g.:" >&2
  echo "  pipx install jupyterlab        (or: python3 -m pip install --user jupyterlab)" >&2
  echo "then run 'npm run lab' again (see environment.md)." >&2
  exit 1
fi
cd "$root/notebooks"
exec jupyter-lab "$@"
