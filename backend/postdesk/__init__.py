"""Postdesk: an open-source contact-centre email platform."""

__version__ = "0.1.0"
