"""The Engine API's routes, one module per kind of object."""
