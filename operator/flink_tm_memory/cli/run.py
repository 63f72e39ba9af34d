"""``flink-tm-memory run``: the operator, from the command line.

The operator (kopf, the Kubernetes client, pydantic) is imported here, when ``run`` is asked for, so
``derive`` keeps its quick start. Logging follows kopf's formats (``--log-format json`` for log
collectors); kopf stops the operator gracefully on SIGINT and SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio

from flink_tm_memory.cli.errors import OperatorStartError
from flink_tm_memory.handlers.options import OperatorOptions


def operator_options(arguments: argparse.Namespace) -> OperatorOptions:
    """The operator's options from ``run``'s arguments."""
    return OperatorOptions(
        namespaces=tuple(arguments.namespaces),
        liveness_endpoint=arguments.liveness,
        drift_interval=arguments.drift_interval,
    )


def run_operator_command(arguments: argparse.Namespace) -> int:
    from flink_tm_memory.handlers.runner import ConnectionSetupError, configure_logging, run_operator

    configure_logging(arguments.log_format, verbose=arguments.verbose)
    try:
        asyncio.run(run_operator(operator_options(arguments)))
    except ConnectionSetupError as error:
        raise OperatorStartError(str(error)) from None
    return 0
