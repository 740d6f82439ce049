"""Rapport's platform-neutral core: commands, handlers, rules, drafts, storage, dispatch."""
