"""KubeSkippy: serverless self-healing for Kubernetes.

The core is pure decision code behind small ports (see :mod:`kubeskippy.ports`); the Knative
functions, the CLI and the SimPy simulator plug real or simulated worlds into the same code.
"""

__version__ = "0.1.0"
