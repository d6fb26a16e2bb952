"""Entry point of the frozen app (packaging/crlmboard.spec): the `crlmboard` command line,
which opens the app when given no command."""

from crlmboard.cli import entry

entry()
