"""Platform adapters: they translate, the core decides."""
