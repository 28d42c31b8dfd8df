"""skmdl.transfer."""
