"""ecsops.platform.static_host_ports: the instance group's static ports come from the services' containers."""

from __future__ import annotations

from ansible_collections.ecsops.platform.plugins.filter.network import static_host_ports


def test_pinned_host_ports_outside_the_dynamic_range_are_opened():
    services = [
        [{"name": "app", "host_port": 8000}, {"name": "sidecar", "host_port": 0}],  # 0: dynamic
        [{"name": "worker"}],  # no host_port: dynamic
        [{"name": "admin", "host_port": "9000"}, {"name": "dup", "host_port": 8000}],
    ]
    assert static_host_ports(services, [32768, 65535]) == [8000, 9000]


def test_ports_inside_the_dynamic_range_are_not_opened_twice():
    assert static_host_ports([[{"name": "app", "host_port": 8000}]], [8000, 8000]) == []
    assert static_host_ports([[{"name": "app", "host_port": 40000}]], ["32768", "65535"]) == []


def test_no_services():
    assert static_host_ports([], [32768, 65535]) == []
    assert static_host_ports(None, [32768, 65535]) == []
