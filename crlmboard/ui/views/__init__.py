"""Views: layout of the workspace tabs and windows."""
