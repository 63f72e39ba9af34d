"""The running process: options, metrics, health, servers, certificates, logging, leader election.

Layer L4, below the controller: the infrastructure a long-running operator needs, none of it a
decision about a FlinkTaskManagerMemory. ``service`` wires it to the controller and kopf.
"""
