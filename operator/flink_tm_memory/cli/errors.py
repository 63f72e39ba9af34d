"""The two ways a command can fail before it has a result to show, and their exit codes.

A ``UsageError`` is the caller's mistake (a bad flag, an unreadable file, an unknown release): exit 2,
as argparse does. A ``ConfigurationError`` is a Flink configuration that cannot even be loaded (a YAML
syntax error, a null value): exit 1, the same code as a configuration Flink rejects.
"""

from __future__ import annotations

USAGE_EXIT = 2
CONFIGURATION_EXIT = 1


class CliError(Exception):
    """A failure reported as one line on stderr."""

    exit_code = USAGE_EXIT


class UsageError(CliError):
    """The command line cannot be acted on."""

    exit_code = USAGE_EXIT


class ConfigurationError(CliError):
    """The configuration file cannot be loaded, as Flink itself could not load it."""

    exit_code = CONFIGURATION_EXIT


class OperatorStartError(CliError):
    """The operator cannot start: no way to reach an API server."""

    exit_code = CONFIGURATION_EXIT
