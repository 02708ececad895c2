"""`nmctl cluster ...`: start a Ray cluster for evaluation, join it, see its nodes.

`start --head` and `join` wrap `ray start` with what a node needs: its state
folder (``NEUROMUTANT_NODE_STATE``, inherited by Ray's workers), the sandbox
image built beforehand, no dashboard, no usage reporting. `status` asks every
live node, from inside, whether its Docker answers, which image it runs and
whether its sandbox code is the daemon's.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from daemon.cli import options
from daemon.cluster.settings import load_cluster, settings_path
from daemon.errors import ClusterError
from daemon.paths import state_dir
from sandbox.cluster.node import NODE_STATE, code_digest

DEFAULT_PORT = 6379
STATUS_SECONDS = 120.0
"""How long `status` waits for a node's answer (its first answer builds the image)."""


def add_parsers(commands: options.Commands) -> None:
    """Register `nmctl cluster` and its subcommands."""
    cluster = commands.add_parser(
        "cluster",
        help="evaluate on a Ray cluster: start, join, status, stop",
        description='Run the evaluation of targets with [sandbox] where = "cluster" on a '
        "Ray cluster, each node in its own Docker sandbox. Start the head on one machine, "
        "join the others, then set [cluster] address in the daemon's settings.toml (see "
        "docs/cluster.md).",
    )
    sub = cluster.add_subparsers(dest="cluster_command", required=True, metavar="COMMAND")
    head = sub.add_parser(
        "start",
        help="start this machine's Ray node (the head with --head)",
        description="Build the sandbox image, then start a Ray node on this machine with "
        "`ray start`: the head of a new cluster with --head.",
    )
    head.add_argument("--head", action="store_true", required=True, help="start the head node")
    head.add_argument("--port", type=int, default=DEFAULT_PORT, help="the head's port (6379)")
    head.add_argument(
        "--temp-dir", default=None, help="Ray's session folder for the cluster (/tmp/ray)"
    )
    _node_options(head)
    options.add_json(head, "print what was started as JSON (Ray's own lines go to stderr)")
    head.set_defaults(func=cmd_start)
    join = sub.add_parser(
        "join",
        help="join this machine to a cluster as a node",
        description="Build the sandbox image, then join the cluster whose head is at ADDRESS.",
    )
    join.add_argument("address", metavar="ADDRESS", help="the head's HOST:PORT")
    _node_options(join)
    options.add_json(join, "print what was started as JSON (Ray's own lines go to stderr)")
    join.set_defaults(func=cmd_join)
    status = sub.add_parser(
        "status",
        help="the cluster's nodes: CPUs, Docker, image, code",
        description="Connect to the cluster and ask every live node whether it can run "
        "sandboxes. Exit status 1 when a node cannot.",
    )
    status.add_argument(
        "--address", default=None, help="HOST:PORT or auto (default: the settings')"
    )
    options.add_state(status)
    options.add_json(status, "print the nodes as JSON")
    status.set_defaults(func=cmd_status)
    stop = sub.add_parser(
        "stop",
        help="stop the Ray processes of this machine",
        description="Stop this machine's Ray node (`ray stop`); running tasks are retried "
        "elsewhere.",
    )
    options.add_json(stop, "print the outcome as JSON (Ray's own lines go to stderr)")
    stop.set_defaults(func=cmd_stop)


def _node_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--num-cpus", type=int, default=None, help="CPUs to offer (all)")
    parser.add_argument(
        "--node-ip-address", default=None, help="this node's address as others reach it"
    )
    options.add_state(parser)


def _ray() -> str:
    found = shutil.which("ray", path=str(Path(sys.executable).parent)) or shutil.which("ray")
    if not found:
        raise ClusterError("Ray is not installed: pip install 'neuromutant[cluster]'")
    return found


def _start(args: argparse.Namespace, role: list[str]) -> dict[str, Any]:
    from sandbox import image
    from sandbox.docker_backend import connect

    node = state_dir(args.state) / "node"
    built, fresh = image.build_offline(connect())
    if not args.json:
        print(f"sandbox image {built.tag} ({'built' if fresh else 'up to date'})")
    argv = [_ray(), "start", *role, "--disable-usage-stats"]
    if args.num_cpus is not None:
        argv += ["--num-cpus", str(args.num_cpus)]
    if args.node_ip_address:
        argv += ["--node-ip-address", args.node_ip_address]
    _run(args, argv, {**os.environ, NODE_STATE: str(node)})
    return {"ok": True, "image": built.tag, "image_built": fresh, "node_state": str(node)}


def _run(args: argparse.Namespace, argv: list[str], env: dict[str, str] | None = None) -> None:
    """Run a `ray` command; with --json its output goes to stderr, leaving stdout to ours."""
    output = sys.stderr if args.json else None
    done = subprocess.run(argv, env=env, stdout=output, check=False)
    if done.returncode != 0:
        raise ClusterError(f"`{' '.join(argv)}` failed with status {done.returncode}")


def cmd_start(args: argparse.Namespace) -> int:
    """`nmctl cluster start --head`."""
    role = ["--head", "--port", str(args.port), "--include-dashboard", "false"]
    data = _start(args, [*role, *(["--temp-dir", args.temp_dir] if args.temp_dir else [])])
    settings = settings_path(state_dir(args.state))
    text = (
        f"head started; join others with `nmctl cluster join THIS_HOST:{args.port}`, and set\n"
        f'[cluster] address = "THIS_HOST:{args.port}" in {settings}'
    )
    options.emit(args, {**data, "port": args.port, "settings": str(settings)}, text)
    return 0


def cmd_join(args: argparse.Namespace) -> int:
    """`nmctl cluster join ADDRESS`."""
    data = _start(args, ["--address", args.address])
    options.emit(args, {**data, "address": args.address}, f"joined {args.address}")
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    """`nmctl cluster stop`."""
    _run(args, [_ray(), "stop"])
    options.emit(args, {"ok": True}, "this machine's Ray processes are stopped")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """`nmctl cluster status`."""
    from daemon.cluster.connect import connect

    address = args.address or load_cluster(state_dir(args.state)).address or "auto"
    ray = connect(address)
    nodes = node_reports(ray)
    ready = all(n.get("docker") and n.get("same_code") for n in nodes if n["alive"])
    data = {"ok": ready, "address": address, "code": code_digest(), "nodes": nodes}
    options.emit(args, data, _status_text(data))
    return 0 if ready else 1


def node_reports(ray: Any) -> list[dict[str, Any]]:
    """Each node of the cluster: address, CPUs, alive, and its own report (`node.report`)."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    from sandbox.cluster.node import report

    remote = ray.remote(report)
    mine = code_digest()
    found = []
    for entry in ray.nodes():
        doc: dict[str, Any] = {
            "node": entry["NodeID"][:12],
            "address": entry.get("NodeManagerAddress"),
            "alive": bool(entry.get("Alive")),
            "cpus": float(entry.get("Resources", {}).get("CPU", 0.0)),
        }
        if doc["alive"]:
            strategy = NodeAffinitySchedulingStrategy(entry["NodeID"], soft=False)
            ref = remote.options(num_cpus=0, scheduling_strategy=strategy).remote()
            try:
                doc.update(ray.get(ref, timeout=STATUS_SECONDS))
            except Exception as exc:
                doc.update(docker=False, error=f"no answer: {exc}")
            doc["same_code"] = doc.get("code") == mine
        found.append(doc)
    return found


def _status_text(data: dict[str, Any]) -> str:
    lines = [f"cluster {data['address']}: {len(data['nodes'])} node(s)"]
    for n in data["nodes"]:
        if not n["alive"]:
            lines.append(f"  {n['node']} {n['address']}: gone")
            continue
        docker = f"image {n['image']}" if n.get("docker") else f"NO DOCKER ({n.get('error')})"
        code = "" if n.get("same_code") else f", code {n.get('code')} differs from {data['code']}"
        lines.append(f"  {n['node']} {n['address']}: {n['cpus']:g} CPU, {docker}{code}")
    return "\n".join(lines)
