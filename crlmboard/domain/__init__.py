"""The clinical model and the guideline engine: pure Python, no I/O, no clock."""
