"""Fixed, predictable port ranges for every Ray process of a cluster.

Ray picks most of its ports at random by default (node manager, object manager, worker
ports, agents), which makes two clusters on one host (or a firewall rule) a gamble. A
:class:`PortPlan` gives every node of a cluster its own block of consecutive ports above
``ray_port``, so a cluster owns exactly the range :attr:`PortPlan.first` ..
:attr:`PortPlan.last` and two clusters whose ranges do not overlap never collide, even when
all their nodes share one host (the local launcher).

Layout (``P`` = ``ray_port``, ``W`` = worker ports per node, ``B_i = P + 3 + i * (6 + W)``)::

    P       GCS (the address workers and ``ray status`` use)
    P+1     Ray Client server (``ray://<head>:P+1``)
    P+2     dashboard (only when the dashboard is enabled)
    B_i+0   node manager          B_i+3  dashboard agent (HTTP)
    B_i+1   object manager        B_i+4  dashboard agent (gRPC)
    B_i+2   metrics export        B_i+5  runtime env agent
    B_i+6 .. B_i+5+W   the node's worker processes (one port each)

Ray Client sessions themselves run on ports Ray probes in 23000-23999 on the head (a fixed
range in Ray, free ports found by binding), outside this plan.
"""

from __future__ import annotations

import random
import socket
from dataclasses import dataclass

HEAD_PORTS = 3
NODE_FIXED_PORTS = 6
DEFAULT_WORKER_PORTS = 64

#: ray start options for the node-local ports, in block order
NODE_PORT_OPTIONS = (
    "node-manager-port",
    "object-manager-port",
    "metrics-export-port",
    "dashboard-agent-listen-port",
    "dashboard-agent-grpc-port",
    "runtime-env-agent-port",
)


@dataclass(frozen=True)
class PortPlan:
    """The ports of one cluster of ``num_nodes`` nodes starting at ``ray_port``."""

    ray_port: int
    num_nodes: int
    worker_ports: int = DEFAULT_WORKER_PORTS

    def __post_init__(self) -> None:
        if isinstance(self.ray_port, bool) or not isinstance(self.ray_port, int):
            raise TypeError(f"ray_port must be an int, got {type(self.ray_port).__name__}")
        if isinstance(self.worker_ports, bool) or not isinstance(self.worker_ports, int):
            raise TypeError("worker_ports must be an int")
        if self.worker_ports < 4:
            raise ValueError(f"worker_ports must be at least 4, got {self.worker_ports}")
        if not 1024 <= self.ray_port:
            raise ValueError(f"ray_port must be 1024 or more, got {self.ray_port}")
        if self.last > 65535:
            raise ValueError(
                f"the cluster needs ports {self.first}-{self.last} ({self.span} ports for "
                f"{self.num_nodes} node(s) with {self.worker_ports} worker ports each), past "
                "65535; choose a lower ray_port or fewer worker_ports"
            )

    @property
    def per_node(self) -> int:
        """Ports in one node's block."""
        return NODE_FIXED_PORTS + self.worker_ports

    @property
    def first(self) -> int:
        return self.ray_port

    @property
    def span(self) -> int:
        """How many ports the cluster owns."""
        return HEAD_PORTS + self.num_nodes * self.per_node

    @property
    def last(self) -> int:
        return self.ray_port + self.span - 1

    @property
    def gcs(self) -> int:
        return self.ray_port

    @property
    def client(self) -> int:
        return self.ray_port + 1

    @property
    def dashboard(self) -> int:
        return self.ray_port + 2

    def node_base(self, index: int) -> int:
        """First port of node ``index`` (0 is the head)."""
        if not 0 <= index < self.num_nodes:
            raise IndexError(f"node {index} is not in a cluster of {self.num_nodes}")
        return self.ray_port + HEAD_PORTS + index * self.per_node

    def node_options(self, index: int) -> dict[str, int]:
        """``ray start`` port options of node ``index`` (without the head's own ports)."""
        base = self.node_base(index)
        options = {name: base + i for i, name in enumerate(NODE_PORT_OPTIONS)}
        options["min-worker-port"] = base + NODE_FIXED_PORTS
        options["max-worker-port"] = base + NODE_FIXED_PORTS + self.worker_ports - 1
        return options

    def overlaps(self, other: PortPlan) -> bool:
        """Whether two clusters' ranges share a port."""
        return self.first <= other.last and other.first <= self.last

    def __str__(self) -> str:
        return f"ports {self.first}-{self.last}"


#: Ray Client's session ports on the head (fixed in Ray): plans never include them
RAY_CLIENT_SESSION_PORTS = range(23000, 24000)


def port_free(port: int) -> bool:
    """Whether this machine can bind ``port`` (TCP, all interfaces)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("", port))
        except OSError:
            return False
    return True


def busy_ports(plan: PortPlan) -> list[int]:
    """The ports of ``plan`` that something on this host already holds."""
    return [p for p in range(plan.first, plan.last + 1) if not port_free(p)]


def find_free_ray_port(
    num_nodes: int,
    worker_ports: int = DEFAULT_WORKER_PORTS,
    low: int = 24000,
    high: int = 32000,
    avoid: tuple[PortPlan, ...] = (),
) -> int:
    """A ``ray_port`` in [low, high) whose whole plan is free on this host.

    The default window lies below Linux's ephemeral ports (32768+) and above Ray Client's
    session ports (23000-23999); ``avoid`` lists plans of clusters not started yet.
    """
    span = PortPlan(low, num_nodes, worker_ports).span
    candidates = list(range(low, high - span, span))
    random.shuffle(candidates)
    for port in candidates:
        plan = PortPlan(port, num_nodes, worker_ports)
        if any(plan.overlaps(o) for o in avoid):
            continue
        if plan.first <= RAY_CLIENT_SESSION_PORTS[-1] and RAY_CLIENT_SESSION_PORTS[0] <= plan.last:
            continue
        if not busy_ports(plan):
            return port
    raise RuntimeError(f"no free range of {span} ports between {low} and {high}")
