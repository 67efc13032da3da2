"""Serving the core as Knative functions under func-python's instance contract.

func-python (the middleware ``func build`` wraps Python functions with) calls ``new()`` and then
``start(cfg)``, ``handle(scope, receive, send)``, ``alive()``, ``ready()`` and ``stop()``. This
package fills the middleware's gaps once for all four functions: a request-size limit (413), a
ready() that is false when start() failed, CloudEvent decoding with 400 naming the problem,
5xx for transient faults so the Broker retries, a reply that is a CloudEvent or an empty 202,
synchronous core code kept off the event loop, JSON logs with correlation ids, and metrics.
"""

from .pydantic_plugins import install as _skip_pydantic_plugin_loader

_skip_pydantic_plugin_loader()  # before any model is built (kubeskippy.serving.pydantic_plugins)

from .app import FunctionApp, Service, Route  # noqa: E402
from .emit import Emitter

__all__ = ["FunctionApp", "Service", "Route", "Emitter"]
