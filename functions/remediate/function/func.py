"""KubeSkippy remediate: plans and HealingAction approvals in; safety-checked actions, outcomes and verifications out.

Wiring only: func-python calls new(); the core service (kubeskippy.services.remediate) decides.
"""

from kubeskippy.start_up import loading_modules

with loading_modules():  # no garbage collection while the core loads (kubeskippy.start_up)
    from kubeskippy.serving import FunctionApp
    from kubeskippy.services.remediate import build


def new() -> FunctionApp:
    return FunctionApp("remediate", build)
