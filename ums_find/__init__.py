"""ums-find: the query side (FindService) of the User Management System."""
