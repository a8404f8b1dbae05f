"""``gpu-advisor profile`` and ``show``: the request from the options, the run with its progress, the report
saved where asked (or somewhere safe), and the table."""

from __future__ import annotations

import argparse
import difflib
import math
import os
import sys
from pathlib import Path

from advisor.cli.render import Progress, header, summary_table
from advisor.errors import AdvisorError, UsageError
from advisor.options import parse_batches, parse_engines, parse_precisions
from advisor.schema.request import BUILTIN_NAMES, ModelSpec, ProfileRequest

DEFAULT_MODEL = "embedding"


def build_request(args: argparse.Namespace) -> ProfileRequest:
    from advisor.schema.inputs import parse_input_spec

    model = args.model or DEFAULT_MODEL
    spec: dict = {"size": args.size, "inputs": [parse_input_spec(s) for s in args.input or []],
                  "seq_len": args.seq_len, "new_tokens": args.new_tokens, "architecture": args.arch,
                  "unsafe_pickle": args.unsafe_pickle_runs_code}
    if model in BUILTIN_NAMES and not Path(model).exists():
        spec["builtin"] = model
    else:
        path = Path(model).expanduser()
        if not path.exists():
            close = difflib.get_close_matches(model, BUILTIN_NAMES, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise UsageError(f"model {model!r} is neither a built-in ({', '.join(BUILTIN_NAMES)}) nor an existing "
                             f"file or folder; {hint}give a built-in's name or a model file's path")
        from advisor.workloads.files import check_model_path

        check_model_path(path)
        spec["path"] = str(path.resolve())
    fields: dict = {"model": ModelSpec(**spec), "device": args.device, "engines": parse_engines(args.engine),
                    "quant_library": args.quant_library, "budget_s": args.budget, "rounds": args.rounds}
    if args.precision is not None:  # an empty list given is an error, not the default
        fields["precisions"] = parse_precisions(args.precision)
    if args.batch is not None:
        fields["batch_sizes"] = parse_batches(args.batch)
    for name in ("threads", "timeout", "seed"):
        value = getattr(args, name)
        if value is not None:
            fields["timeout_s" if name == "timeout" else name] = value
    if args.memory_limit_gib is not None:
        if not math.isfinite(args.memory_limit_gib) or args.memory_limit_gib <= 0:
            raise UsageError(f"--memory-limit-gib: {args.memory_limit_gib} is not a memory size; give GiB, e.g. 16")
        fields["memory_limit_bytes"] = int(args.memory_limit_gib * 2**30)
    if args.threads is not None and args.threads > 4 * (os.cpu_count() or 1):
        raise UsageError(f"--threads {args.threads}: this machine has {os.cpu_count()} CPUs; use at most "
                         f"{4 * (os.cpu_count() or 1)} (default: every CPU this process may use)")
    fields["energy"] = not args.no_energy
    for option, field in (("telemetry_interval_ms", "telemetry_interval_ms"), ("energy_window", "energy_window_s"),
                          ("energy_trials", "energy_trials"), ("cpu_tdp_w", "cpu_tdp_w"),
                          ("wall_power_w", "wall_power_w"), ("idle_wall_power_w", "idle_wall_power_w")):
        value = getattr(args, option)
        if value is not None:
            fields[field] = value
    return ProfileRequest(**fields)


EXIT_SAVED_ELSEWHERE = 5


def _interrupt_on(signals) -> dict:
    """SIGTERM and SIGHUP (a `timeout`, a service stop, a closed SSH session) stop a profile as Ctrl-C does:
    the worker is cancelled and the report of what was measured is kept."""
    import signal

    def interrupt(signum, _frame):
        for each in signals:
            signal.signal(each, signal.SIG_IGN)  # the partial report is being saved: one stop is enough
        raise KeyboardInterrupt(signal.Signals(signum).name)

    return {signum: signal.signal(signum, interrupt) for signum in signals}


def cmd_profile(args: argparse.Namespace) -> int:
    import signal

    from advisor.profiling.runner import ProfileRun
    from advisor.report.destination import (
        DEFAULT_REPORT_DIR,
        Destination,
        default_report_path,
    )
    from advisor.report.io import report_json
    from advisor.schema.report import NOTHING_TIMED_FIX

    if args.json and args.events:
        raise UsageError("--json and --events both write to stdout: choose one")
    request = build_request(args)
    if request.device not in ("auto", "cpu"):  # a device this machine lacks fails now, before a worker starts
        from advisor.profiling.device import resolve_device

        resolve_device(request.device)
    out = Path(args.out).expanduser() if args.out else None
    model_file = (Path(request.model.path),) if request.model.path else ()
    destination = Destination(out, args.overwrite, DEFAULT_REPORT_DIR, model_file).reserve()  # before any measuring
    progress = Progress(sys.stderr, enabled=not args.quiet)
    run = ProfileRun(request)
    stop_signals = [s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None]
    previous = _interrupt_on(stop_signals)
    # Held in a name: a stop raised in the loop's body must give its reason before the generator is dropped, since
    # dropping it cancels the run as "the caller stopped reading" (and the first reason given is the one kept).
    events = run.events()
    try:
        try:
            for event in events:
                progress(event)
                if args.events:
                    print(event.model_dump_json(), flush=True)
        except KeyboardInterrupt as exc:
            run.cancel(f"interrupted ({exc.args[0]})" if exc.args else "interrupted by the user (Ctrl-C)")
            for event in run.events():
                progress(event)
    finally:
        progress.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    report, code = run.report, run.exit_code
    assert report is not None and code is not None  # set when the worker's events end
    wrote, elsewhere = None, None
    kept = report.model is not None or run.cancelled
    try:
        # Kept when the model loaded, or when the run was stopped (even before its first measurement: the report
        # then says it was interrupted, and when); a model that failed to load says so on stderr instead.
        if kept:
            wrote, elsewhere = destination.save(report, default_report_path(report))
    except AdvisorError as exc:  # not even the fallback folder: the report goes to stdout, never lost
        print(f"gpu-advisor: error: {exc}; the report follows on stdout", file=sys.stderr)
        print(report_json(report))
        return EXIT_SAVED_ELSEWHERE
    finally:
        destination.release()
    if args.json:
        print(report_json(report))
    elif not args.events and kept:  # a run refused before its model loaded has no table, only its error
        print(header(report))
        print(summary_table(report))
    if wrote:
        state = "" if report.status == "complete" else " (incomplete)"
        print(f"report{state}: {wrote}", file=sys.stderr)
        if report.status == "complete" and not (args.quiet or args.json or args.events):
            print(next_step(wrote) if report.timed() else f"nothing was timed: {NOTHING_TIMED_FIX}",
                  file=sys.stderr)
    if elsewhere:
        print(f"gpu-advisor: error: {elsewhere}; the report was saved to {wrote} instead", file=sys.stderr)
        code = code or EXIT_SAVED_ELSEWHERE
    if run.exit_code:
        print(f"gpu-advisor: error: {run.error_message}", file=sys.stderr)
    return code


def next_step(report_path: Path) -> str:
    """The command that turns a profile into a verdict, ready to paste (issue 26: a profile ended with no next step)."""
    import shlex

    path = shlex.quote(str(report_path))
    return f"next: gpu-advisor recommend {path} --preset internal-tool   (the table again: gpu-advisor show {path})"


def cmd_show(args: argparse.Namespace) -> int:
    from advisor.report.io import load_report, report_json

    report = load_report(Path(args.report))
    if args.json:
        print(report_json(report))
    else:
        print(header(report))
        print(summary_table(report))
        if report.status != "complete":
            print(f"incomplete: {report.incomplete_reason}")
    return 0
