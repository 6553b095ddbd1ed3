"""PortPlan: every Ray port of a cluster in one fixed range (no Ray needed)."""

from __future__ import annotations

import socket

import pytest

from smartsim_ray.ports import NODE_PORT_OPTIONS, PortPlan, busy_ports, find_free_ray_port


def test_layout_head_ports_then_one_block_per_node():
    plan = PortPlan(30000, 3, worker_ports=10)
    assert (plan.gcs, plan.client, plan.dashboard) == (30000, 30001, 30002)
    assert plan.per_node == 16
    assert plan.span == 3 + 3 * 16
    assert (plan.first, plan.last) == (30000, 30050)
    node1 = plan.node_options(1)
    assert node1["node-manager-port"] == 30019
    assert node1["min-worker-port"] == 30025
    assert node1["max-worker-port"] == 30034


def test_every_port_of_the_plan_is_distinct_and_inside_the_range():
    plan = PortPlan(40000, 4, worker_ports=8)
    ports = [plan.gcs, plan.client, plan.dashboard]
    for i in range(4):
        opts = plan.node_options(i)
        ports += [opts[o] for o in NODE_PORT_OPTIONS]
        ports += range(opts["min-worker-port"], opts["max-worker-port"] + 1)
    assert len(ports) == len(set(ports)) == plan.span
    assert min(ports) == plan.first and max(ports) == plan.last


def test_overlap():
    a = PortPlan(30000, 2, worker_ports=8)
    assert a.overlaps(PortPlan(a.last, 1, worker_ports=8))
    assert not a.overlaps(PortPlan(a.last + 1, 1, worker_ports=8))


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((65500, 2), ValueError),
        ((80, 1), ValueError),
        ((30000, 1, 2), ValueError),
        (("30000", 1), TypeError),
    ],
)
def test_bad_plans_refused(args, error):
    with pytest.raises(error):
        PortPlan(*args)


def test_node_index_checked():
    with pytest.raises(IndexError):
        PortPlan(30000, 2).node_options(2)


def test_find_free_ray_port_skips_a_busy_range():
    port = find_free_ray_port(2, worker_ports=8)
    plan = PortPlan(port, 2, worker_ports=8)
    assert not busy_ports(plan)
    assert plan.last < 32768
    with socket.socket() as sock:
        sock.bind(("", plan.first + 5))
        sock.listen()
        assert busy_ports(plan) == [plan.first + 5]
        other = find_free_ray_port(2, worker_ports=8, avoid=(plan,))
        assert not PortPlan(other, 2, worker_ports=8).overlaps(plan)
