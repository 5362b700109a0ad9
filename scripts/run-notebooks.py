"""Execute notebooks headlessly with nbclient and export each to HTML (driven by run-notebooks.ts).

Usage: python3 run-notebooks.py --out DIR [--timeout S] [--kernel tslab] NOTEBOOK.ipynb...

For each notebook prints one JSON line on stdout:
  {"notebook", "ok", "seconds", "executed", "html", "error": {"cell", "ename", "evalue", "source"} | null}
The executed notebook is written even when a cell fails (outputs up to the failing cell), so the
error can be read in it. Executed notebooks are signed (nbformat's notary, the same database as
`jupyter trust`) so JupyterLab on this machine trusts their outputs and runs the figure scripts.
"""
import argparse
import json
import os
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbconvert import HTMLExporter
from nbformat.sign import NotebookNotary


def cell_error(nb, index, kind, exc):
    """Describe the failing cell: its index, source, and the error text it printed."""
    if index is None:
        return {"cell": None, "ename": kind, "evalue": str(exc)[:4000], "source": ""}
    cell = nb.cells[index]
    ename, text = kind, ""
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            ename = out.get("ename") or kind
            text += (out.get("evalue") or "") + "\n" + "\n".join(out.get("traceback") or [])
        elif out.get("output_type") == "stream" and out.get("name") == "stderr":
            text += out.get("text", "")
    if not text.strip():
        text = str(exc)
    return {"cell": index, "ename": ename, "evalue": text.strip()[:4000], "source": cell.get("source", "")[:2000]}


def run_one(path, out_dir, timeout, kernel):
    nb = nbformat.read(path, as_version=4)
    name = os.path.splitext(os.path.basename(path))[0]
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel,
        # cwd of the kernel = the notebook's folder: tslab compiles with rootDir = cwd and resolves
        # "@xanes/lib" from the project's node_modules above it.
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}},
    )
    t0 = time.time()
    error = None
    index = None
    try:
        # The loop of NotebookClient.execute(), kept here to know which cell failed: tslab reports
        # a failing cell as stderr text plus an error reply with an empty ename.
        client.reset_execution_trackers()
        with client.setup_kernel():
            info = client.wait_for_reply(client.kc.kernel_info())
            nb.metadata["language_info"] = info["content"]["language_info"]
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
    except CellExecutionError as e:
        error = cell_error(nb, index, "CellExecutionError", e)
    except CellTimeoutError as e:
        error = cell_error(nb, index, "CellTimeoutError", e)
    except DeadKernelError as e:
        error = cell_error(nb, index, "DeadKernelError", e)
    except Exception as e:  # kernel could not start, bad kernelspec, ...
        error = {"cell": None, "ename": type(e).__name__, "evalue": str(e)[:4000], "source": ""}
    seconds = time.time() - t0
    os.makedirs(out_dir, exist_ok=True)
    executed = os.path.join(out_dir, name + ".ipynb")
    try:
        NotebookNotary().sign(nb)
    except Exception as e:  # signing is a convenience for JupyterLab, never a failure
        print(f"note: could not sign {executed}: {e}", file=sys.stderr)
    nbformat.write(nb, executed)
    html_path = os.path.join(out_dir, name + ".html")
    body, _ = HTMLExporter().from_notebook_node(nb)
    with open(html_path, "w", encoding="utf-8") as f:
        f.write(body)
    return {
        "notebook": path,
        "ok": error is None,
        "seconds": round(seconds, 2),
        "executed": executed,
        "html": html_path,
        "error": error,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--timeout", type=int, default=1800, help="per-cell timeout in seconds")
    ap.add_argument("--kernel", default="tslab")
    ap.add_argument("notebooks", nargs="+")
    args = ap.parse_args()
    for path in args.notebooks:
        result = run_one(path, args.out, args.timeout, args.kernel)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
