"""The service behind each Knative function: configuration, adapters and core, assembled.

Each module exposes ``build(cfg) -> (service, routes)`` for :class:`kubeskippy.serving.FunctionApp`;
the function folders only call it.
"""
