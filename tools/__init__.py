"""Maintainer tools, outside the learner package: tools/nbstrip.py runs `make strip` and `make record`."""
