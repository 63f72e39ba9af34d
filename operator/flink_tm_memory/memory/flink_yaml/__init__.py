"""The YAML that Flink 1.19+ reads ``config.yaml`` and list and map option values with.

Whole files go through it too (``memory/config_document.py``): Flink loads ``config.yaml`` with the
same snakeyaml-engine settings.

Since the standard-YAML configuration (``config.yaml``), Flink reads a map option (such as
``taskmanager.memory.managed.consumer-weights``) or a list option (such as ``external-resources``) by
loading its text with snakeyaml-engine 2.6 (YAML 1.2 core schema, duplicate keys refused) and falls
back to the legacy ``K:V,K:V`` / ``a;b`` splitting when that fails or yields no map (list).
Whether the fallback happens, and what the weights
are when it does not, depends on snakeyaml's exact scanning rules: ``OPERATOR: 70`` is a map,
``OPERATOR:70`` a plain string, ``{OPERATOR:70}`` a map whose only key is ``OPERATOR:70``, ``OPERATOR: 0x10``
the weight 16, ``OPERATOR: 1e2`` the text ``100.0``. So this package ports snakeyaml-engine's scanner,
parser, composer and core-schema constructor (and the flow emitter Flink uses to turn non-string values
back into text), as far as a configuration file or value can exercise them.

``load`` returns the constructed value or raises ``YamlError`` for anything snakeyaml would reject;
Flink treats every such failure alike (it falls back), so no error text is kept. Constructs this port
does not reproduce (recursive aliases) also raise
``YamlError``.

One module per snakeyaml-engine stage, in the order a value passes through them:

* ``loader`` (``Load``) chains ``reader`` (``StreamReader``), ``scanner`` (``ScannerImpl``, with its
  mixins ``property_scanning`` and ``scalar_scanning`` and the ``tokens`` it produces), ``parser``
  (``ParserImpl``), ``composer`` (``Composer``, building ``nodes``, tagged by ``resolver``) and
  ``constructor`` (``StandardConstructor``);
* ``emitter`` (``StandardRepresenter`` and ``Emitter``) turns values back into text;
* ``values`` (what a load yields, and ``YamlError``) and ``characters`` (``CharConstants``) are shared.

Only the names below are the package's interface; the modules are its internals.
"""

from flink_tm_memory.memory.flink_yaml.characters import is_printable
from flink_tm_memory.memory.flink_yaml.emitter import dump, option_text
from flink_tm_memory.memory.flink_yaml.loader import load
from flink_tm_memory.memory.flink_yaml.resolver import resolve_scalar
from flink_tm_memory.memory.flink_yaml.values import YamlError, YamlMap, YamlSet, YamlValue

__all__ = [
    "YamlError",
    "YamlMap",
    "YamlSet",
    "YamlValue",
    "dump",
    "is_printable",
    "load",
    "option_text",
    "resolve_scalar",
]
