"""skmdl.library."""
