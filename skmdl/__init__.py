"""skmdl: scikit-learn compatible transfer learning for materials science."""

__version__ = "0.1.0"
