"""skmdl.csp."""
