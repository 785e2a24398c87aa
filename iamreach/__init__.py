"""iamreach — IAM and network graph reachability analyzer for AWS."""

__version__ = "0.1.0"


def __getattr__(name: str):
    """Lazy ``iamreach.load`` (Jupyter entry point): importing iamreach stays cheap."""
    if name == "load":
        from iamreach.notebook import load

        return load
    raise AttributeError(f"module 'iamreach' has no attribute {name!r}")
