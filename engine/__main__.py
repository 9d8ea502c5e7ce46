import sys

from engine.cli import main

# `python -m engine sweep ...` runs experiments (engine/sweep_cli.py); anything
# else is one run (engine/cli.py).
if sys.argv[1:2] == ["sweep"]:
    from engine.sweep_cli import main as sweep_main

    sys.exit(sweep_main(sys.argv[2:]))
sys.exit(main())
