"""KubeSkippy detect: ApiServerSource events, Alertmanager alerts and sweeps in; findings out.

Wiring only: func-python calls new(); the core service (kubeskippy.services.detect) decides.
"""

from kubeskippy.start_up import loading_modules

with loading_modules():  # no garbage collection while the core loads (kubeskippy.start_up)
    from kubeskippy.serving import FunctionApp
    from kubeskippy.services.detect import build


def new() -> FunctionApp:
    return FunctionApp("detect", build)
