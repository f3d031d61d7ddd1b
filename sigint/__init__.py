"""sigint: signal-integrity analysis of die-to-die links in advanced packaging.

From a Touchstone channel file or a package geometry to VTF loss and crosstalk, pulse
responses, statistical eyes and UCIe / BoW / AIB verdicts, on numpy or CuPy.
"""

__version__ = "0.1.0"
