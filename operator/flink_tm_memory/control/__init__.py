"""The controller: reconciling a FlinkTaskManagerMemory, repairing its ConfigMap, sizing pods, drift.

Layer L5. Decides what to write for a resource and writes it, through ``render`` (pure plans) and
``cluster`` (the API). It knows nothing of how the process is run; ``handlers`` says when it is called.
"""
