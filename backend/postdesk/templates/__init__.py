"""Email templates: reply, auto-reply, signature, dialer and notification texts with ${variable} placeholders."""
