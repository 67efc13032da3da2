"""KubeSkippy audit: every io.kubeskippy event and dead letter in; one object per event in the audit bucket.

Wiring only: func-python calls new(); the core service (kubeskippy.services.audit) decides.
"""

from kubeskippy.start_up import loading_modules

with loading_modules():  # no garbage collection while the core loads (kubeskippy.start_up)
    from kubeskippy.serving import FunctionApp
    from kubeskippy.services.audit import build


def new() -> FunctionApp:
    return FunctionApp("audit", build)
