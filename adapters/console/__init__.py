"""The local console adapter."""
