"""What the operator writes, as plain values: ConfigMaps, container resources, workload patches, status, events.

Layer L2: pure. Everything here is computed from a spec, Flink's derivation of it and the objects read
from the cluster, and returned as dicts or small frozen values; nothing here talks to Kubernetes, logs,
or reads a clock (the time is passed in). The cluster layer performs the writes these functions plan,
the handler layer decides when. Keeping the planning pure makes every decision (what to write, whether
anything changed, which condition flips) testable without an API server.
"""
