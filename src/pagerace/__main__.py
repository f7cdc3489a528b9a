"""`python -m pagerace` runs the command-line interface."""

from pagerace.cli.main import main

main()
