"""Supervision: the live picture of a company's email campaigns and agents for supervisors and admins."""
