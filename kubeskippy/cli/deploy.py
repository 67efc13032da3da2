"""``kubeskippy crds``: the CRDs generated from the policy models."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command("crds")
    def crds(out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write here instead of stdout "
                                                 "(deploy/knative/crds.yaml in this repository)")) -> None:
        """Print the HealingPolicy and HealingAction CustomResourceDefinitions."""
        from kubeskippy.policy.crd import render_crds

        text = render_crds()
        if out is None:
            typer.echo(text, nl=False)
        else:
            out.write_text(text)
            typer.echo(f"wrote {out}", err=True)
