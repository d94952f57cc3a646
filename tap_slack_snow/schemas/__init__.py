"""JSON Schemas of the tap-slack-snow streams (one <stream>.json per stream)."""
