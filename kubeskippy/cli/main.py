"""The ``kubeskippy`` command line.

Each area keeps its commands in its own module (``kubeskippy/cli/<area>.py``) exposing
``register(app: typer.Typer) -> None``; this module only assembles them.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="kubeskippy",
    help="Serverless self-healing for Kubernetes: policies, events, audit, and what-if simulation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# One line per area; each module defines register(app).
COMMAND_MODULES: list[str] = [
    "simulate",
    "policy",
    "send",
    "audit",
    "rules",
    "deploy",
    "dev",
    "actions",
]



@app.callback()
def main() -> None:
    """KubeSkippy: serverless self-healing for Kubernetes."""


for _name in COMMAND_MODULES:
    importlib.import_module(f"kubeskippy.cli.{_name}").register(app)


@app.command("version")
def version() -> None:
    """Print the KubeSkippy version."""
    from kubeskippy import __version__

    typer.echo(__version__)


if __name__ == "__main__":  # pragma: no cover
    app()
