"""Reitti's entrypoints: the ``reitti`` command, the launcher of ``reitti up``, the demo,
and the documents generated from the services (AsyncAPI, the permission matrix, OpenAPI).

The layers import one way: ``contracts`` (the event and API contracts) imports nothing of
Reitti's; ``runtime`` (the library under the services) imports contracts only;
``services`` import runtime and contracts; this package, the composition of it all, may
import everything, and nothing imports it (tests/unit/test_layers.py)."""
