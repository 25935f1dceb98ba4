"""Which Engine API this daemon speaks, and its own version."""

# The newest API docker-py 7 knows (docs/reference/contracts.md#api-version)
API_VERSION = "1.45"
MIN_API_VERSION = "1.24"
VERSION = "0.1.0"
