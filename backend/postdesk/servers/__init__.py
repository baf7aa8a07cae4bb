"""Email servers: how a company sends (SMTP or SendGrid) and receives (IMAP or POP3) mail."""
