"""Environment configuration: typed models, static AWS/EKS facts, and the YAML loader."""

from eksctl_ml.config.loader import Environment, load_env
from eksctl_ml.config.models import EnvConfig

__all__ = ["EnvConfig", "Environment", "load_env"]
