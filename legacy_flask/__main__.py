from legacy_flask.cli import main

raise SystemExit(main())
