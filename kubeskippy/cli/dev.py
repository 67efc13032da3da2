"""``kubeskippy dev``: the local event mesh on a laptop.

A development tool: on a cluster, Knative routes. Starts a broker with Knative's delivery
semantics, the four functions as real func-python processes, and an ApiServerSource-shaped feed
from a Kubernetes API — the built-in devcluster double (default) or a real cluster.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command("dev")
    def dev(
        policies: list[Path] = typer.Option([], "--policies", "-p", help="HealingPolicy files or folders "
                                             "(default: demo/policies when present)"),
        seed: list[Path] = typer.Option([], "--seed", help="YAML objects to create in the devcluster first"),
        kubeconfig: Optional[Path] = typer.Option(None, help="Use a real cluster through this kubeconfig "
                                                   "instead of the devcluster double"),
        audit_dir: Path = typer.Option(Path("kubeskippy-audit"), help="Local audit sink directory"),
        log_dir: Path = typer.Option(Path(".kubeskippy-dev"), help="Where the functions' logs go"),
    ) -> None:
        """Run broker + detect/analyze/remediate/audit + an API feed on 127.0.0.1 until Ctrl-C."""
        import yaml
        from rich.console import Console

        from kubeskippy.mesh.feed import ApiServerFeed
        from kubeskippy.mesh.runner import Mesh
        from kubeskippy.policy.loading import expand_paths

        console = Console()
        repo = Path.cwd() if (Path.cwd() / "functions").is_dir() else None
        if not policies and repo is not None and (repo / "demo" / "policies").is_dir():
            policies = [repo / "demo" / "policies"]
        env = {"KUBESKIPPY_AUDIT_SINK": "local", "KUBESKIPPY_AUDIT_DIR": str(audit_dir.resolve()),
               "KUBESKIPPY_POLICY_SOURCE": "files",
               "KUBESKIPPY_POLICY_FILES": ",".join(str(p.resolve()) for p in expand_paths(policies))}
        server = None
        if kubeconfig is None:
            from kubeskippy.devcluster.memory_cluster import MemoryCluster
            from kubeskippy.devcluster.server import DevClusterServer

            server = DevClusterServer().start()
            objects = [d for path in seed for d in yaml.safe_load_all(path.read_text()) if d]
            MemoryCluster(server.store).seed(objects)
            env["KUBESKIPPY_KUBE_URL"] = server.url
            api_client = server.api_client()
        else:
            from kubernetes import client, config

            env["KUBECONFIG"] = str(kubeconfig.resolve())
            configuration = client.Configuration()
            config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
            api_client = client.ApiClient(configuration)
        mesh = Mesh(repo, log_dir, env=env).start()
        feed = ApiServerFeed(api_client, mesh.server.url).start()
        console.print(f"[bold]broker[/] (K_SINK)  {mesh.server.url}   e.g. kubeskippy send {mesh.server.url} …")
        for name, fn in mesh.functions.items():
            console.print(f"[bold]{name:<10}[/] {fn.url}   log: {fn.log_path}")
        console.print(f"[bold]kubernetes[/] {server.url if server else kubeconfig}")
        console.print(f"[bold]audit[/]      {audit_dir.resolve()}   (kubeskippy audit ls --dir …)")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            console.print("stopping")
        finally:
            feed.stop()
            mesh.stop()
            if server is not None:
                server.stop()
