from quart_app.cli import main

raise SystemExit(main())
