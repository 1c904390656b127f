"""The Search tab: notes folders, their index and batch jobs, and search by meaning and keywords."""
