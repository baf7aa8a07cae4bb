"""Companies (tenants), users with roles, teams, API keys and sign-in."""
