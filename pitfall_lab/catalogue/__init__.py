"""The catalogue: each scenario's metadata (``scenario``: one TOML schema for all, loaded and
checked), where the catalogue lives (``locate``: a checkout or the copy an installed lab
ships), and how its texts are shown (``treediff``: a fix as a diff from its repro; ``text``).

May import: the standard library, packaging, tomllib. Nothing else of the lab: every other
package reads the catalogue through this one.
"""
