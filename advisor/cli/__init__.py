"""The command line: ``gpu-advisor profile | recommend | report | verify | compare | devices | monitor | catalog | show``.

Exit codes: 0 the profile completed (recommend: a verdict was reached; 1 when no option meets the target);
2 bad usage or input file; 3 the model could not be loaded or
rejected its inputs; 4 the run stopped early (crash, time or memory limit); 5 the report could not be
written where asked (it was saved to the path printed, or to stdout); 130 interrupted (Ctrl-C, SIGTERM, SIGHUP).
Errors print one line (``gpu-advisor: error: ...``) on stderr, never a traceback.
"""

from __future__ import annotations

import sys

from pydantic import ValidationError

from advisor import stop
from advisor.cli.parser import make_parser
from advisor.errors import AdvisorError, UsageError
from advisor.options import option_errors


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    stop.running = True  # a stop signal now raises KeyboardInterrupt here (advisor/stop.py)
    try:
        return args.func(args)
    except AdvisorError as exc:
        print(f"gpu-advisor: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except ValidationError as exc:
        print(f"gpu-advisor: error: {option_errors(exc)}", file=sys.stderr)
        return UsageError.exit_code
    except KeyboardInterrupt as exc:
        print(f"gpu-advisor: interrupted ({exc.args[0] if exc.args else 'SIGINT'})", file=sys.stderr)
        return stop.EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0
    finally:
        stop.running = False
