"""Sending: the policy that decides, the send worker, transports, suppression, unsubscribe, SMS replies."""
