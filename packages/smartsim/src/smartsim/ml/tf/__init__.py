"""TensorFlow/Keras helpers: freeze a Keras model for the database's TF backend, and Keras
Sequences over the database's training data (needs ``tensorflow``)."""

from smartsim.ml._require import require

require("tensorflow", "smartsim.ml.tf", "tensorflow-cpu")

from smartsim.ml.tf.data import DynamicDataGenerator, StaticDataGenerator  # noqa: E402
from smartsim.ml.tf.utils import freeze_model, serialize_model  # noqa: E402

__all__ = ["DynamicDataGenerator", "StaticDataGenerator", "freeze_model", "serialize_model"]
