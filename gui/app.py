"""Entry point of the ``heapscope`` command (the window arrives with the GUI issue)."""
import sys


def main() -> int:
    from engine.cli import main as cli_main

    return cli_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
