from kd.cli.main import main

raise SystemExit(main())
