"""Conscience: align clinical chat models to a written Clinical Constitution, and measure it.

The package reads like the recipe: ``constitution`` → ``generate`` → ``train`` → ``evaluate`` → ``guard``,
with ``models`` as the ground floor every stage may use.
"""

__version__ = "0.1.0"
