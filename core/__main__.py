from core.cli.parser import main

raise SystemExit(main())
