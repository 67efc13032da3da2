"""Ports handed to the mesh's processes are never handed out twice."""

from kubeskippy.mesh.runner import free_port


def test_free_port_never_repeats_within_a_process():
    ports = [free_port() for _ in range(200)]
    assert len(set(ports)) == len(ports)
