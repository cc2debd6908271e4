"""HTTP routes, one module per API: parse the request, call the backend, render Amazon's envelope.

Each module exposes ``build(state) -> list[Route]``; it creates its backend and stores it in
``state.backends[<api name>]``. ``app.py`` imports the modules listed in ``ROUTE_MODULES``.
"""
