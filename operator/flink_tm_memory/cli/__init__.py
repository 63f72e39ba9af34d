"""The ``flink-tm-memory`` command line (also ``python -m flink_tm_memory``).

``derive`` answers "how will Flink size this TaskManager?" without starting a JVM, so it has to be
quick: only argparse and the modules of the chosen command and output format are imported, never the
operator's Kubernetes stack, and YAML support only when a YAML file is read or YAML is written.
``size`` answers the inverse: the smallest TaskManager that meets a job's needs.
``run`` starts the operator, and only then imports it; ``webhook-configurations`` prints the
admission webhooks' configurations for an install. Exit codes: 0 success, 1 a configuration
Flink rejects (or cannot load) or an operator that cannot connect, 2 a usage error.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see memory/records.py)
if TYPE_CHECKING:
    from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line and returns its exit code."""
    from flink_tm_memory.cli.errors import CliError

    argv = sys.argv[1:] if argv is None else argv
    try:
        quick = _quick_derive(argv)
        if quick is not None:
            return quick
        from flink_tm_memory.cli.arguments import parse_arguments

        arguments = parse_arguments(argv)
        if arguments.command == "run":
            from flink_tm_memory.cli.run import run_operator_command

            return run_operator_command(arguments)
        if arguments.command == "webhook-configurations":
            from flink_tm_memory.cli.webhook_configurations import print_webhook_configurations

            return print_webhook_configurations(arguments)
        if arguments.command in ("check", "render"):
            from flink_tm_memory.cli.offline import run_check, run_render

            return run_check(arguments) if arguments.command == "check" else run_render(arguments)
        if arguments.command == "size":
            from flink_tm_memory.cli.size import run_size

            return run_size(arguments)
        from flink_tm_memory.cli.derive import run_derive

        return run_derive(arguments)
    except CliError as error:
        print(f"flink-tm-memory: error: {error}", file=sys.stderr)
        return error.exit_code
    except SystemExit as done:  # --help and --version
        return done.code if isinstance(done.code, int) else 0
    except BrokenPipeError:
        _silence_stdout()
        return 1
    except KeyboardInterrupt:
        return 130


def _quick_derive(argv: Sequence[str]) -> int | None:
    """The simple one-shot ``derive``, read without argparse (``cli/quick_arguments.py``); else ``None``."""
    from flink_tm_memory.cli.quick_arguments import parse_quick_derive

    arguments = parse_quick_derive(argv)
    if arguments is None:
        return None
    from flink_tm_memory.cli.derive import run_derive

    return run_derive(arguments)


def _silence_stdout() -> None:
    # The reader went away (`| head`); Python would otherwise complain again when flushing at exit.
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    finally:
        os.close(devnull)
