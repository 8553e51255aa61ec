"""vae-teach: the maths, models and widgets behind an interactive course on Variational Autoencoders.

Import the submodule you need (``from vae_teach import toy, bounds``). Importing the package
has no side effects: no seeding, no printing, no downloads.
"""

__version__ = "0.1.0"
