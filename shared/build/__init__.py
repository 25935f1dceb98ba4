"""The classic builder's pure half: the Dockerfile parser (dockerfile.py), shell-word
expansion (substitution.py), .dockerignore matching (dockerignore.py) and the build
context with COPY/ADD's source rules (context.py). None of it runs a container; the
builder loop that does lives beside it and calls these modules.
"""
