"""Talking to image registries: the OCI distribution protocol, as `docker pull` speaks it.

    client.py    HTTP to one repository of one registry: manifests and blobs
    auth.py      who we are: Basic credentials, Bearer tokens, Docker's config.json
    pull.py      registry -> image store, every byte verified before use
    push.py      image store -> registry
    progress.py  Docker's JSON progress lines, which the docker CLI draws as bars
"""
