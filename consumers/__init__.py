"""The processes that read the topic: the live projection consumer and replay."""
