"""The process around the rules: configuration, AWS clients, observability, resource names, egress."""
