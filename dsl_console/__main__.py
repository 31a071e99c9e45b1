"""`python -m dsl_console`: the same as the `dsl-console` command."""

from dsl_console.cli import main

# Guarded: the background sweep's process may import this module as its parent's main
# module (multiprocessing does that), and must not run the command line again.
if __name__ == "__main__":
    raise SystemExit(main())
