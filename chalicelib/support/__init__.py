"""Cases, escalation and alerts, sentiment, the inbox and its sessions."""
