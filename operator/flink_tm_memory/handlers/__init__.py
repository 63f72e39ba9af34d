"""The operator: kopf registrations that run parse, derive, render, apply for each FlinkTaskManagerMemory.

Layer L4. The handlers decide *when* to reconcile (a resource created, changed, resumed after a
restart; a periodic drift check; one of the operator's ConfigMaps edited or deleted) and hand the
work to the layers below: ``render`` plans (purely), ``cluster`` writes. ``run_operator`` starts kopf
with these handlers; ``flink-tm-memory run`` is its command line.
"""
