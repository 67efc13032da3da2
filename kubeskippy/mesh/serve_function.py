"""Run one function under func-python the way func's scaffolding does.

``python -m kubeskippy.mesh.serve_function functions/detect`` imports ``function.new`` from that
function project (exactly what ``func build`` packages); ``… serve_function detect`` serves the
same FunctionApp from the installed package, for machines without the repository's folders.
LISTEN_ADDRESS chooses the address.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

NAMES = ("detect", "analyze", "remediate", "audit")


def constructor_for(target: str) -> Callable[[], object]:
    folder = Path(target)
    if (folder / "function" / "__init__.py").is_file():
        sys.path.insert(0, str(folder.resolve()))
        from function import new  # type: ignore[import-not-found]

        return new
    if target in NAMES:
        import importlib

        from kubeskippy.start_up import loading_modules

        with loading_modules():  # as the function projects' func.py load the core
            from kubeskippy.serving import FunctionApp

            build = importlib.import_module(f"kubeskippy.services.{target}").build

        def new() -> FunctionApp:
            return FunctionApp(target, build)

        return new
    raise SystemExit(f"{target}: neither a function project folder nor one of {', '.join(NAMES)}")


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit("usage: python -m kubeskippy.mesh.serve_function FUNCTION_DIR|NAME")
    new = constructor_for(argv[0])
    from func_python.http import serve

    new.__name__ = "new"  # func-python dispatches on the constructor's name
    serve(new)


if __name__ == "__main__":
    main(sys.argv[1:])
