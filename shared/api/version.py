"""Which Engine API this daemon speaks, and its own version."""

API_VERSION = "1.45"  # what docker-py 7 asks for by default (CONTRACTS.md)
MIN_API_VERSION = "1.24"
VERSION = "0.1.0"
