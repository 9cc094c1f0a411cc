"""Faces: thin adapters that authenticate, parse, call one service and render."""
