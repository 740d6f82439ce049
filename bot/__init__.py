"""The Rapport program: configuration, wiring, command line."""
