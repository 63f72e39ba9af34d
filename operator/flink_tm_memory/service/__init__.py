"""The operator process assembled: ``run_operator`` wires runtime, controller and kopf registrations.

Layer L7, the composition root: the only place that knows every other layer; ``flink-tm-memory run``
is its command line.
"""
