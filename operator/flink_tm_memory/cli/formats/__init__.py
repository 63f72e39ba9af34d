"""Renderers of one derivation result: table (terminal), yaml/json, flink (BashJavaUtils' output), svg."""
