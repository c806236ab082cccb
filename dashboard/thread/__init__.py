"""The entity's handoff thread (issue #15): what every call of every agent received, from whom, and added."""
