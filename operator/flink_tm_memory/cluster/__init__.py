"""The only code that talks to the Kubernetes API: reads, creates and patches, and nothing else.

Layer L3. It uses the official ``kubernetes`` client; its calls block, so each runs in a worker
thread (``asyncio.to_thread``) and the operator's event loop (kopf's) never waits on the network.
Objects travel as plain dicts (the raw JSON, not the client's models): the renderers below plan
writes on dicts, and nothing is lost or reshaped in a round trip. Failures come out as one exception
type, ``ApiError``, that says whether retrying soon can help.
"""
