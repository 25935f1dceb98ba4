"""The OCI runtime spec: the one currency every era consumes."""
