"""flink-tm-memory-operator: Apache Flink TaskManager memory, derived exactly as Flink does, on Kubernetes."""

__version__ = "0.1.0.dev0"
