"""Email groups: the contact centre's own addresses that receive automated notifications about campaigns."""
