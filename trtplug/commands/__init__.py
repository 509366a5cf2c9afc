"""One module per `trtplug` subcommand: `add_arguments(parser)` and `run(args) -> exit code`."""
