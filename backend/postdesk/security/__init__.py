"""Password hashing, access tokens, API keys, secrets at rest and login throttling."""
