"""``kubeskippy simulate``: try policies against simulated workloads before they touch a cluster."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Optional

import typer

__all__ = ["register", "simulate"]


def simulate(
    scenarios: Optional[list[str]] = typer.Argument(None, help="Scenario files or built-in names "
                                                               "(default: the demo suite)"),
    policy: Optional[list[Path]] = typer.Option(None, "--policy", "-p", help="Policy file or directory; one arm "
                                                                             "each (default: the scenario's own)"),
    duration: Optional[str] = typer.Option(None, "--duration", "-d", help="Simulated time per run, e.g. 24h"),
    seeds: int = typer.Option(3, "--seeds", "-n", min=1, help="Seeds per scenario × arm (common random numbers)"),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the full report as JSON"),
    html_out: Optional[Path] = typer.Option(None, "--html", help="Write a self-contained HTML report"),
    compat: bool = typer.Option(False, "--compat", help="Prune unknown policy fields with warnings"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar"),
    list_scenarios: bool = typer.Option(False, "--list", help="List built-in scenarios and workload models"),
) -> None:
    """Run each scenario under each policy set and under no healing; report incidents, time to
    detect, MTTR, OOM kills, availability, actions (and what safety blocked), flapping and
    replica-hours, with 95% confidence intervals over seeds."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from kubeskippy.durations import parse_duration
    from kubeskippy.errors import InvalidInput
    from kubeskippy.simulator.arms import arms_for
    from kubeskippy.simulator.report import render_html, render_table, report_json
    from kubeskippy.simulator.runner import run_once
    from kubeskippy.simulator.scenario import DEMO_SUITE, builtin_scenario_names, load_scenario
    from kubeskippy.simulator.workloads import MODELS

    console = Console(stderr=True)
    if list_scenarios:
        out = Console()
        out.print("Built-in scenarios: " + ", ".join(builtin_scenario_names()))
        for m in MODELS:
            out.print(f"  {m.name:20s} {m.description}")
        return
    try:
        loaded = [load_scenario(s) for s in (scenarios or DEMO_SUITE)]
        seconds = parse_duration(duration) if duration else None
        plan = [(sc, arms_for(sc, policy or (), compat=compat)) for sc in loaded]
    except (InvalidInput, ValueError) as e:
        console.print(f"[red]error:[/red] {e}")
        raise typer.Exit(2) from None
    total = sum((seconds or sc.duration) * len(arms) * seeds for sc, arms in plan)
    records = []
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeRemainingColumn(), console=console,
                  disable=quiet, transient=True) as progress:
        task = progress.add_task("simulating", total=total)
        for sc, arms in plan:
            for k in range(seeds):
                for arm in arms:
                    done_before = progress.tasks[0].completed
                    progress.update(task, description=f"{sc.name} · {arm.name} · seed {sc.seed + k}")

                    def tick(t: float, base: float = done_before) -> None:
                        progress.update(task, completed=base + t)

                    try:
                        record = run_once(sc, arm, sc.seed + k, duration=seconds, progress=tick)
                    except InvalidInput as e:
                        console.print(f"[red]error:[/red] {e}")
                        raise typer.Exit(2) from None
                    progress.update(task, completed=done_before + (seconds or sc.duration))
                    records.append(record)
    command = "kubeskippy simulate " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    report = report_json(records, command=command.strip())
    render_table(report["summary"], Console())
    if json_out:
        json_out.write_text(json.dumps(report, indent=1, default=str))
        console.print(f"wrote {json_out}")
    if html_out:
        html_out.write_text(render_html(report))
        console.print(f"wrote {html_out}")


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)
