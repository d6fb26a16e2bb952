"""Item models over the services."""
