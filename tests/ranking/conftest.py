from tests.ranking.dns_server import dns_server  # noqa: F401  (a fixture)
