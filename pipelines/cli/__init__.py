"""`microfunnel` command line: one clear line per problem, progress while a run works."""

from __future__ import annotations

import signal
import sys
import traceback
from types import FrameType

from pipelines.cli.commands import use_demo_key_if_unset
from pipelines.cli.console import Console
from pipelines.cli.errors import EXIT_FAILED, EXIT_USAGE, describe
from pipelines.cli.parser import build_parser
from pipelines.lib.settings import Settings

__all__ = ["main", "use_demo_key_if_unset"]


_received: list[int] = []


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM and SIGHUP stop a run the way Ctrl-C does: whoever handles SIGINT right now
    (Dagster defers it to a safe point, ends the run and gives back its pool slots). A second
    one stops at once; the next run reclaims what that leaves (run_recovery)."""
    _received.append(signum)
    handler = signal.getsignal(signal.SIGINT)
    if len(_received) == 1 and callable(handler) and handler is not _interrupt:
        handler(signal.SIGINT, frame)
    else:
        raise KeyboardInterrupt


def _install_signal_handlers() -> None:
    # A shell's `cmd &` starts programs with SIGINT ignored; a run must still be stoppable.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console()
    _install_signal_handlers()
    try:
        # Read once here; every command gets this object (nothing re-reads the environment).
        return args.func(args, console, Settings.from_env())
    except KeyboardInterrupt:
        console.error("interrupted; the next run picks up from where this one stopped")
        return 130
    except Exception as exc:
        message, known = describe(exc)
        if args.debug:
            traceback.print_exc()
        console.error(message)
        if not known and not args.debug:
            console.say("(run again with --debug for the full traceback)")
        return EXIT_USAGE if known else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
