import sys

from engine.cli import main
from engine.config import restart_with_static_tls

# jemalloc loads only into a process started with more static TLS: restart
# with it when this command line may need jemalloc (glibc reads the tunable
# at start only).  Other command lines skip the restart and its ~0.2 s.
if any("jemalloc" in arg or arg.startswith("--list") for arg in sys.argv[1:]):
    restart_with_static_tls()

# `python -m engine sweep ...` runs experiments (engine/sweep_cli.py); anything
# else is one run (engine/cli.py).
if sys.argv[1:2] == ["sweep"]:
    from engine.sweep_cli import main as sweep_main

    sys.exit(sweep_main(sys.argv[2:]))
sys.exit(main())
