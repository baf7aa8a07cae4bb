"""Channel filters: which campaign an email server's incoming mail is delivered to."""
