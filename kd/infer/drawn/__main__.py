from kd.infer.drawn.command import main

raise SystemExit(main())
