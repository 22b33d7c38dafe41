"""Loaders: audio, images and videos, text. The only place user bytes reach a decoder."""
