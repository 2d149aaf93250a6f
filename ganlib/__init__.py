"""ganlib: the library behind the book *Generative Adversarial Nets, derived and checked*."""

__version__ = "0.2.1"
