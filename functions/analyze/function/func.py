"""KubeSkippy analyze: findings in; plans (root cause and ordered actions) out.

Wiring only: func-python calls new(); the core service (kubeskippy.services.analyze) decides.
"""

from kubeskippy.start_up import loading_modules

with loading_modules():  # no garbage collection while the core loads (kubeskippy.start_up)
    from kubeskippy.serving import FunctionApp
    from kubeskippy.services.analyze import build


def new() -> FunctionApp:
    return FunctionApp("analyze", build)
