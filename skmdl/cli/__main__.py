"""``python -m skmdl.cli``: the same as the ``skmdl`` command."""

from . import main

raise SystemExit(main())
