"""Run one function folder under func-python the way func's scaffolding does.

``python -m kubeskippy.mesh.serve_function functions/detect`` imports ``function.new`` from
that folder and hands it to ``func_python.http.serve`` (LISTEN_ADDRESS chooses the address).
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit("usage: python -m kubeskippy.mesh.serve_function FUNCTION_DIR")
    folder = Path(argv[0]).resolve()
    if not (folder / "function" / "__init__.py").is_file():
        raise SystemExit(f"{folder} is not a function project (no function/__init__.py)")
    sys.path.insert(0, str(folder))
    from function import new  # type: ignore[import-not-found]
    from func_python.http import serve

    serve(new)


if __name__ == "__main__":
    main(sys.argv[1:])
