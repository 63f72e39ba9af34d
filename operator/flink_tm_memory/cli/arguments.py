"""The command-line grammar: one ``argparse`` parser, built on demand and cheap to build.

Usage errors are raised as ``UsageError`` (one line on stderr, exit 2) instead of argparse's
usage dump, so that scripts and people see the one thing that is wrong.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from flink_tm_memory import __version__
from flink_tm_memory.cli.errors import UsageError
from flink_tm_memory.cli.formats.registry import DERIVE_FORMATS
from flink_tm_memory.cli.quick_arguments import split_dynamic_property

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see memory/records.py)
if TYPE_CHECKING:
    from typing import NoReturn

BATCH_MODES = ("tm", "local", "weights")

_DERIVE_HELP = """\
Derive TaskManager memory exactly as Flink's BashJavaUtils would, without a JVM.

With neither --config nor -D, Flink's shipped default configuration is used
(taskmanager.memory.process.size: 1728m, taskmanager.numberOfTaskSlots: 1).
With --jsonl, cases are read from stdin in the flink-oracle's input schema,
{"id": ..., "config": {key: value}} per line ("jobConfig" too; with --mode
weights also "useCases", "stateBackendUsesManagedMemory", "fractionOfUseCase"),
and answered in its output schema, one line each: {"id", "ok": true, "bytes",
"cpuCores", "numSlots", "jvmParams", "dynamicConfigs"} or {"id", "ok": false,
"error": {"class", "message", "chain", "classes"}}; a rejected case also gets
its "fixes" (--no-fixes leaves them out).

Exit status: 0 Flink accepts the configuration; 1 Flink rejects it, the file
cannot be loaded, or (--compare-version) the other release rejects it; 2 a
usage error. With --jsonl: 0 every line answered, 1 a line could not be read
(named on stderr, answered ORACLE_BAD_INPUT) or hit an internal error.
"""


_RUN_HELP = """\
Run the operator: reconcile FlinkTaskManagerMemory resources into ConfigMaps and
workload resources, and report in their status.

It talks to the API server the way kubectl does: with the pod's service account
in a cluster, else the current context of the kubeconfig ($KUBECONFIG or
~/.kube/config). Run one replica: the operator assumes it is the only one
writing (deploy it with the Recreate strategy). Stops on SIGINT or SIGTERM.
"""
LOG_FORMATS = ("plain", "full", "json")
DEFAULT_RECONCILE_NICE = 0
"""Off until a measurement shows it helps: the runs on the shared machine could not tell
(benchmarks/README.md, "In a process of its own")."""
MAX_NICE = 19


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse builds a formatter for every argument added; its default width lookup imports shutil,
    which drags in three compression modules. The terminal width comes from ``os`` instead."""

    def __init__(
        self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None
    ):
        super().__init__(prog, indent_increment, max_help_position, width or _help_width())


def _help_width() -> int:
    try:
        columns = os.get_terminal_size().columns
    except OSError:
        columns = 0
    return min(columns, 100) - 2 if columns >= 40 else 78


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _non_negative_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 0 <= seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds from 0 up, got {text!r}")
    return seconds


def _nice(text: str) -> int:
    try:
        steps = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of nice steps, got {text!r}") from None
    if not 0 <= steps <= MAX_NICE:
        raise argparse.ArgumentTypeError(f"expected 0 to {MAX_NICE} nice steps, got {text!r}")
    return steps


def _positive_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return seconds


def _dynamic_property(text: str) -> tuple[str, str]:
    entry = split_dynamic_property(text)
    if entry is None:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return entry


COMMANDS = ("derive", "size", "check", "render", "run", "webhook-configurations")
"""Every command, in the order of the help."""


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser; with ``only``, just that command's (its parse is the same).

    A one-shot ``derive`` is a few milliseconds of work after Python's start: building every command's
    arguments (``run`` alone has dozens) would be a large share of it.
    """
    parser = _Parser(
        prog="flink-tm-memory",
        formatter_class=_HelpFormatter,
        description="Apache Flink TaskManager memory, derived exactly as Flink does.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    if only in (None, "derive"):
        _add_derive(commands)
    if only in (None, "size"):
        _add_size(commands)
    if only in (None, "check", "render"):
        _add_offline(commands)
    if only in (None, "run"):
        _add_run(commands)
    if only in (None, "webhook-configurations"):
        _add_webhook_configurations(commands)
    return parser


def _add_derive(commands: argparse._SubParsersAction[_Parser]) -> None:
    derive = commands.add_parser(
        "derive",
        help="derive TaskManager memory from a Flink configuration",
        description=_DERIVE_HELP,
        formatter_class=_HelpFormatter,
    )
    _add_configuration(derive)
    derive.add_argument(
        "--flink-tm-heap",
        metavar="SIZE",
        help="Flink 1.x's legacy FLINK_TM_HEAP, which taskmanager.sh hands to the calculation "
        "(default: the FLINK_TM_HEAP environment variable; no effect from 2.0)",
    )
    derive.add_argument("--format", choices=tuple(DERIVE_FORMATS), help="output format (default table)")
    derive.add_argument(
        "--compare-version",
        metavar="V",
        help="also lay the same options out under release V: each component side by side, and why they differ",
    )
    derive.add_argument(
        "--jsonl", action="store_true", help="read oracle-style cases from stdin, write one result per line"
    )
    derive.add_argument("--mode", choices=BATCH_MODES, help="with --jsonl: what to derive (default tm)")
    derive.add_argument(
        "--no-fixes",
        action="store_true",
        help="with --jsonl: no fixes for rejected cases (the oracle's schema exactly)",
    )


_SIZE_HELP = """\
The smallest TaskManager (total process size, in whole MiB) whose layout in
Flink meets what a job needs, over your other options; and the container's
requests. Needs are components of the layout:

  taskHeap, managed, network, taskOffHeap, frameworkHeap, frameworkOffHeap,
  jvmMetaspace, jvmOverhead

  flink-tm-memory size --need taskHeap=2g --need managed=4g
  flink-tm-memory size --need network=2g -D taskmanager.memory.network.max=1g

Only what must change is changed: a size below its need is raised, a maximum
below a need is raised, and the process size found; everything else keeps what
your options (or Flink's defaults) make of it.

--jsonl reads {"id", "config", "needs"} per line from stdin and writes
{"id", "ok": true, "config": {...}, "bytes": {...}} or {"id", "ok": false,
"error": {"message"}} per line.

Exit codes: 0 sized, 1 the needs cannot be met (or a --jsonl line could not
be read), 2 a usage error.
"""


_CHECK_HELP = """\
Judge every FlinkTaskManagerMemory in the manifests as the validating webhook
would, without a cluster: each conflict with the fix that changes least, the
warnings kubectl would print, and what each resource would write to the target
workloads the same manifests hold. Files and directories (recursive; *.yaml,
*.yml, *.json; several documents per file).

Exit codes: 0 nothing would be denied, 1 something would be denied or a file
cannot be read, 2 a usage error.
"""

_RENDER_HELP = """\
What the operator would write for each FlinkTaskManagerMemory in the manifests,
without a cluster: the ConfigMap, the patch of each target workload the
manifests hold, and the status (YAML or JSON).

Exit codes: 0 every resource is valid, 1 one is not (its status says why) or a
file cannot be read, 2 a usage error.
"""


def _add_offline(commands: argparse._SubParsersAction[_Parser]) -> None:
    for name, summary, description in (
        ("check", "the admission verdict for manifests, offline (for GitOps CI)", _CHECK_HELP),
        ("render", "what the operator would write for manifests, offline", _RENDER_HELP),
    ):
        command = commands.add_parser(
            name, help=summary, description=description, formatter_class=_HelpFormatter
        )
        command.add_argument(
            "-f",
            "--filename",
            dest="files",
            action="append",
            default=[],
            metavar="FILE|DIR",
            help="a manifest file or a directory of them (repeatable)",
        )
        formats = ("text", "json") if name == "check" else ("yaml", "json")
        command.add_argument(
            "--format", choices=formats, default=formats[0], help=f"output format (default {formats[0]})"
        )


def _add_configuration(command: argparse.ArgumentParser) -> None:
    """The Flink configuration a command reads: the release, ``-D`` entries and a config file."""
    command.add_argument(
        "--flink-version", metavar="V", help="Flink release, e.g. 2.2 or 1.20.1 (default 2.2)"
    )
    command.add_argument(
        "-D",
        dest="dynamic",
        action="append",
        default=[],
        type=_dynamic_property,
        metavar="KEY=VALUE",
        help="a configuration entry, as Flink's -D (overrides --config)",
    )
    command.add_argument(
        "--config", metavar="FILE", help="Flink config.yaml or flink-conf.yaml (or the conf directory)"
    )


def _add_size(commands: argparse._SubParsersAction[_Parser]) -> None:
    size = commands.add_parser(
        "size",
        help="the smallest TaskManager that meets what a job needs",
        description=_SIZE_HELP,
        formatter_class=_HelpFormatter,
    )
    size.add_argument(
        "--need",
        action="append",
        default=[],
        type=_dynamic_property,
        metavar="NAME=SIZE",
        help="what the job needs of a component, e.g. taskHeap=2g (repeatable)",
    )
    _add_configuration(size)
    size.add_argument("--format", choices=("table", "yaml", "json"), help="output format (default table)")
    size.add_argument("--jsonl", action="store_true", help="read cases from stdin, write one answer per line")


_WEBHOOK_CONFIGURATIONS_HELP = """\
Print the ValidatingWebhookConfiguration and MutatingWebhookConfiguration that
route admission to the operator, as YAML (the shipped manifests/webhooks/ file
is this command's output with its defaults).

The API server verifies the webhook's certificate against caBundle: give the CA
with --ca-file, let the operator patch it in (--operator-ca, for run
--webhook-manage-configurations), or let cert-manager's CA injector fill it in
(--cert-manager). The operator never creates these: apply them with kubectl.
"""


def _add_webhook_configurations(commands: argparse._SubParsersAction[_Parser]) -> None:
    configurations = commands.add_parser(
        "webhook-configurations",
        help="print the webhook configurations for an install",
        description=_WEBHOOK_CONFIGURATIONS_HELP,
        formatter_class=_HelpFormatter,
    )
    endpoint = configurations.add_mutually_exclusive_group()
    endpoint.add_argument(
        "--service",
        type=_service,
        metavar="NS/NAME[:PORT]",
        help="the Service in front of the webhook (default flink-tm-memory/flink-tm-memory-operator-webhook:443)",
    )
    endpoint.add_argument("--url", metavar="URL", help="call the webhook at https://HOST:PORT instead")
    configurations.add_argument(
        "--ca-file", metavar="PEM", help="the CA that signed the webhook's serving certificate (caBundle)"
    )
    configurations.add_argument(
        "--operator-ca",
        action="store_true",
        help="leave caBundle to the operator (run --webhook-manage-configurations patches it in)",
    )
    configurations.add_argument(
        "--cert-manager",
        metavar="NS/NAME",
        help="annotate for cert-manager's CA injector with this Certificate (default: the Service's)",
    )
    configurations.add_argument(
        "--operator-namespace",
        metavar="NS",
        help="the operator's namespace, never sent to the pod webhook (default: the Service's)",
    )


def _add_run(commands: argparse._SubParsersAction[_Parser]) -> None:
    run = commands.add_parser(
        "run", help="run the operator", description=_RUN_HELP, formatter_class=_HelpFormatter
    )
    scope = run.add_mutually_exclusive_group()
    scope.add_argument(
        "-n",
        "--namespace",
        dest="namespaces",
        action="append",
        default=[],
        metavar="NS",
        help="serve this namespace (repeatable; globs like flink-*); default: all namespaces",
    )
    scope.add_argument(
        "-A", "--all-namespaces", action="store_true", help="serve every namespace (the default)"
    )
    run.add_argument(
        "--liveness", metavar="URL", help="serve a liveness probe, e.g. http://0.0.0.0:8080/healthz"
    )
    run.add_argument(
        "--drift-interval",
        type=_positive_seconds,
        default=60.0,
        metavar="S",
        help="seconds between checks that ConfigMaps and workloads still hold the layout (default 60)",
    )
    run.add_argument(
        "--no-workload-watch",
        dest="workload_watch",
        action="store_false",
        help="do not watch Deployments, StatefulSets and FlinkDeployments: a target created after its "
        "resource is sized by the next drift check",
    )
    run.add_argument(
        "--no-oom-watch",
        dest="oom_watch",
        action="store_false",
        help="do not watch pods for OOM-killed TaskManagers (no status.oomKills, Events or metric)",
    )
    run.add_argument(
        "--workload-selector",
        metavar="SELECTOR",
        help="label selector for the workload watch, applied by the API server (e.g. "
        "app.kubernetes.io/component=taskmanager): only matching workloads are sized at once",
    )
    _add_metrics(run)
    _add_webhook(run)
    _add_leader_election(run)
    run.add_argument(
        "--reconcile-nice",
        type=_nice,
        default=DEFAULT_RECONCILE_NICE,
        metavar="N",
        help="with the webhooks: lower the reconciling process's CPU priority by N nice steps (0 to 19), so "
        f"that the admission process answers first under load (default {DEFAULT_RECONCILE_NICE}: unchanged)",
    )
    run.add_argument(
        "--log-format", choices=LOG_FORMATS, default="full", help="log line format (default full)"
    )
    run.add_argument("-v", "--verbose", action="store_true", help="log at debug level")


def _add_metrics(run: argparse.ArgumentParser) -> None:
    metrics = run.add_argument_group(
        "metrics and health (HTTP: /metrics, /livez, /readyz; off unless --metrics-port is given)"
    )
    metrics.add_argument(
        "--metrics-port", type=_port, metavar="PORT", help="serve Prometheus metrics and probes on this port"
    )
    metrics.add_argument(
        "--metrics-listen", default="0.0.0.0", metavar="ADDR", help="address to bind (default 0.0.0.0)"
    )
    metrics.add_argument(
        "--api-unready-after",
        type=_positive_seconds,
        default=60.0,
        metavar="S",
        help="/readyz fails after this many seconds without an answer from the API server (default 60)",
    )
    metrics.add_argument(
        "--no-per-resource-metrics",
        dest="per_resource_metrics",
        action="store_false",
        help="leave out the series labelled by each resource's namespace and name (one per resource); "
        "the operator-wide ones stay",
    )


def _add_webhook(run: argparse.ArgumentParser) -> None:
    webhook = run.add_argument_group("admission webhooks (HTTPS; off unless --webhook-port is given)")
    webhook.add_argument("--webhook-port", type=_port, metavar="PORT", help="serve the webhook on this port")
    webhook.add_argument(
        "--webhook-listen", default="0.0.0.0", metavar="ADDR", help="address to bind (default 0.0.0.0)"
    )
    webhook.add_argument(
        "--webhook-cert-dir",
        metavar="DIR",
        help="certificates mounted from cert-manager (tls.crt, tls.key, ca.crt); with --webhook-self-signed: "
        "where the generated ones are written",
    )
    webhook.add_argument(
        "--webhook-self-signed",
        metavar="HOSTS",
        help="make an own CA and serving certificate for these comma-separated names and IPs, renewed and "
        "rotated (in memory unless --webhook-secret)",
    )
    webhook.add_argument(
        "--webhook-secret",
        type=_secret,
        metavar="NS/NAME",
        help="with --webhook-self-signed: the existing Secret every replica shares the CA and certificate "
        "through (read and patched, never created)",
    )
    webhook.add_argument(
        "--webhook-ca-validity",
        type=_duration,
        metavar="D",
        help="with --webhook-self-signed: how long a CA is valid, e.g. 1095d (default), 72h, 90s",
    )
    webhook.add_argument(
        "--webhook-certificate-validity",
        type=_duration,
        metavar="D",
        help="with --webhook-self-signed: how long a serving certificate is valid (default 90d)",
    )
    webhook.add_argument(
        "--webhook-rotation-overlap",
        type=_duration,
        metavar="D",
        help="with --webhook-self-signed: how long old and new CAs are trusted together (default 10m)",
    )
    webhook.add_argument(
        "--webhook-check-interval",
        type=_positive_seconds,
        metavar="S",
        help="seconds between checks of the certificates (and managed configurations) (default 60)",
    )
    webhook.add_argument(
        "--webhook-manage-configurations",
        action="store_true",
        help="keep the existing webhook configurations' caBundle in step with the serving CAs (patches only)",
    )
    webhook.add_argument(
        "--webhook-service",
        type=_service,
        metavar="NS/NAME[:PORT]",
        help="with --webhook-manage-configurations: the Service in front of the webhook "
        "(default: call https://HOST:PORT directly)",
    )
    webhook.add_argument(
        "--webhook-host",
        metavar="HOST",
        help="the host the API server calls without a Service (default: the first self-signed host)",
    )
    webhook.add_argument(
        "--webhook-drain-seconds",
        type=_non_negative_seconds,
        default=5.0,
        metavar="SECONDS",
        help="on shutdown, keep answering admission this long while reporting not ready, so the Service's "
        "endpoints drop this replica first (default 5)",
    )


def _add_leader_election(run: argparse.ArgumentParser) -> None:
    election = run.add_argument_group(
        "leader election (several replicas; only the one holding a coordination.k8s.io Lease reconciles)"
    )
    election.add_argument(
        "--leader-election",
        action="store_true",
        help="reconcile only while holding the Lease; every replica serves probes, metrics and webhooks",
    )
    election.add_argument(
        "--leader-election-namespace",
        metavar="NS",
        help="the Lease's namespace (default: $POD_NAMESPACE, else the service account's namespace)",
    )
    election.add_argument(
        "--leader-election-lease",
        default="flink-tm-memory-operator",
        metavar="NAME",
        help="the Lease's name (default flink-tm-memory-operator)",
    )
    election.add_argument(
        "--leader-election-identity",
        metavar="ID",
        help="this replica's holderIdentity (default: $POD_NAME, else the host name and a random suffix)",
    )
    for flag, default, what in (
        ("--lease-duration", 15.0, "seconds a standby waits after the Lease last changed before taking it"),
        ("--renew-deadline", 10.0, "seconds the leader tries to renew before it stops leading"),
        ("--retry-period", 2.0, "seconds between two attempts to acquire or renew"),
    ):
        election.add_argument(
            flag, type=_positive_seconds, default=default, metavar="S", help=f"{what} (default {default:g})"
        )


def _service(text: str) -> tuple[str, str, int]:
    reference, _, port = text.partition(":")
    namespace, _, name = reference.partition("/")
    if not namespace or not name or "/" in name:
        raise argparse.ArgumentTypeError(f"expected NAMESPACE/NAME[:PORT], got {text!r}")
    return namespace, name, _port(port) if port else 443


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(text: str) -> float:
    """Seconds from ``90s``, ``10m``, ``72h``, ``1095d`` or a bare number of seconds."""
    number, unit = (text[:-1], text[-1]) if text[-1:] in _UNITS else (text, "s")
    try:
        seconds = float(number) * _UNITS[unit]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a duration like 90s, 10m, 72h or 1095d, got {text!r}"
        ) from None
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive duration, got {text!r}")
    return seconds


def _secret(text: str) -> tuple[str, str]:
    namespace, _, name = text.partition("/")
    if not namespace or not name or "/" in name:
        raise argparse.ArgumentTypeError(f"expected NAMESPACE/NAME, got {text!r}")
    return namespace, name


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"expected a port number from 1 to 65535, got {text!r}")
    return port


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = arguments[0] if arguments and arguments[0] in COMMANDS else None
    return build_parser(only=command).parse_args(arguments)
