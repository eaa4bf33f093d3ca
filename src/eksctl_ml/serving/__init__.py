"""Serving: the Triton model repository (validate, push, list) and the smoke-inference gate."""
