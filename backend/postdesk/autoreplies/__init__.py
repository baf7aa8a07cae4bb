"""Auto-replies: the campaign's acknowledgement to a customer who opened a conversation, sent safely."""
