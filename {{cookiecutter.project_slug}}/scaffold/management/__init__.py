"""Management commands of the scaffold app."""
