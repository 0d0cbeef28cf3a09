"""Developer scripts the Makefile runs (standard library only)."""
