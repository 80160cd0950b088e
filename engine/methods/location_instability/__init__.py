"""Location instability of filters or graph nodes on landmarks (spec: interpretable-cnn §2.8)."""
from engine.methods.base import Method
from engine.methods.location_instability.api import compute
from engine.methods.location_instability.config import LocationInstabilityConfig
from engine.methods.location_instability.result import KIND, LocationInstabilityResult

METHOD = Method("location-instability", KIND, "how far each filter's peak wanders from the landmarks "
                "(std of the normalised distance over its top images; also graph nodes)",
                LocationInstabilityConfig, LocationInstabilityResult, compute,
                accepts_model2=True)
