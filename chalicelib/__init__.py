"""Aftercare: after-sales follow-up for online stores, on AWS Chalice."""
