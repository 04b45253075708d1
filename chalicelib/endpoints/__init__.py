"""Outbound webhooks: a store's endpoints, the events they subscribe to, and signed deliveries."""
