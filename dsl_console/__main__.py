from dsl_console.cli import main

raise SystemExit(main())
