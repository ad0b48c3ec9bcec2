"""Notification rows and their real-time delivery over Channels (the real-time issue)."""
