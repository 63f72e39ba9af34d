"""``python -m flink_tm_memory``: the same command line as the ``flink-tm-memory`` script."""

from flink_tm_memory.cli import main

raise SystemExit(main())
