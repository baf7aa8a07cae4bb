"""Mail protocol adapters and MIME for Postdesk: compose, parse, SMTP, SendGrid, IMAP, POP3, probes.

Called by services and background tasks; imports nothing of Postdesk except `postdesk.net`, and
holds no database state: callers pass settings in and store what comes back.
"""
