"""Recognizers, one per medium, each knowing only its own: voice (audio) and words (text)."""
