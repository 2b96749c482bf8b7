"""Demo data: a behavioural simulation that writes a contract-following landing zone.

``generate(landing_dir, ...)`` writes all 9 sources and returns the ``DemoTruth`` (the
probabilities the simulation used), see docs/landing-contract.md.
"""

from rightsend.demo.simulate import generate
from rightsend.demo.truth import DemoTruth

__all__ = ["DemoTruth", "generate"]
