"""`python -m crlmboard` runs the command line."""

from crlmboard.cli import entry

entry()
