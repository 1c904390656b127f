"""The Chat tab: conversations, the reply view, sources, and copying replies."""
