from advisor import stop

stop.install()  # before the imports below, which take seconds on a loaded machine

from advisor.cli import main  # noqa: E402

raise SystemExit(main())
