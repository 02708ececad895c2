"""Test doubles that keep the fast test loop free of Docker and bubblewrap."""
