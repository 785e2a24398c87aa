"""iamreach — IAM and network graph reachability analyzer for AWS."""

__version__ = "0.1.0"
