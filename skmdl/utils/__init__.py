"""skmdl.utils."""
