"""Typed results: predictions of the voice, the words and the faces, and what they share."""
