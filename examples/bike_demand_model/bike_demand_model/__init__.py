"""Daily bike-sharing demand forecast: an example model package for model-service."""

from bike_demand_model.model import BikeDemandModel

__all__ = ["BikeDemandModel"]
