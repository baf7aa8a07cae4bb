"""The local mail sandbox (`postdesk sandbox`): SMTP and IMAP/POP3 on 127.0.0.1, no root needed.

A newcomer points a Postdesk email server at it, sends sample customer mail into its demo mailbox
(`postdesk sandbox send-samples`) and sees Postdesk's replies land in a catch-all mailbox. Its Dovecot
runner is also what the test suite uses for real IMAP/POP3 servers.
"""
