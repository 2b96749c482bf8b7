"""rightsend: the right message, on the right channel, at the right time - or none."""

__version__ = "0.1.0"
