"""Everything reportlab: case summaries, meeting packs and letters as PDF bytes."""
