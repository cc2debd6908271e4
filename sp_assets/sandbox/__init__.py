"""The embedded SP-API sandbox: a real HTTP server that speaks Amazon's wire contract on 127.0.0.1.

Built the way moto builds fake AWS services: per-API state and rules live in ``backends/`` (one module
per API), the HTTP routes that parse a request and render Amazon's envelope live in ``routes/`` (one
module per API), and the cross-cutting behaviour every operation shares (access tokens, token-bucket
quotas, fault injection, request ids) lives in ``operations.py``. The synthetic seller in ``seller.py``
is the single source of truth that every API and every report is derived from, so the REST API and
the reports always agree. Nothing here imports the project's SP-API client: the two must be able to
disagree, or the tests would prove nothing.
"""
