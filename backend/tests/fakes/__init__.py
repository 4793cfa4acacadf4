"""Local stand-ins for the outside services Hunter talks to."""
