"""Applies events to state: the copy engine. No Qt, no SQL."""
