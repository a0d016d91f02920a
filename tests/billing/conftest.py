from tests.stripe_server import stripe_server  # noqa: F401  (a fixture)
