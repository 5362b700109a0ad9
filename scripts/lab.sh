#!/usr/bin/env bash
# `npm run lab`: JupyterLab on notebooks/ with the project's tslab kernel (kernelspec in .jupyter/).
# Without JupyterLab (not packaged in Debian 12) it falls back to Debian's classic `jupyter-notebook`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export JUPYTER_PATH="$root/.jupyter/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
[ -f "$root/.jupyter/share/jupyter/kernels/tslab/kernel.json" ] || node "$root/scripts/install-kernel.mjs"
cd "$root/notebooks"
if command -v jupyter-lab >/dev/null 2>&1; then
  exec jupyter-lab "$@"
fi
if /usr/bin/python3 -c "import notebook.notebookapp" >/dev/null 2>&1; then
  echo "JupyterLab not found; starting the classic Jupyter Notebook (Debian jupyter-notebook) instead." >&2
  echo "For JupyterLab: pipx install jupyterlab (see environment.md)." >&2
  exec /usr/bin/python3 -m notebook "$@"
fi
echo "Neither JupyterLab nor the Jupyter Notebook is installed. Install one, e.g.:" >&2
echo "  pipx install jupyterlab        (or: python3 -m pip install --user jupyterlab)" >&2
echo "  sudo apt-get install jupyter-notebook   (Debian/Ubuntu, classic interface)" >&2
exit 1
