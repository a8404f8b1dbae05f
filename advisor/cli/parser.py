"""The command line's options: one sub-parser per command, each pointing at the function that runs it."""

from __future__ import annotations

import argparse
from typing import NoReturn

from advisor.cli.assess import add_assess_parser
from advisor.cli.commands import (
    cmd_catalog,
    cmd_compare,
    cmd_devices,
    cmd_doctor,
    cmd_fleet_nodes,
    cmd_fleet_profile,
    cmd_monitor,
    cmd_project,
    cmd_recommend,
    cmd_report,
    cmd_verify,
)
from advisor.cli.profile import DEFAULT_MODEL, cmd_profile, cmd_show
from advisor.recommend.workload import preset_names
from advisor.report.destination import DEFAULT_REPORT_DIR
from advisor.schema.engines import card_engines
from advisor.schema.request import ALL_PRECISIONS, BUILTIN_NAMES, DEFAULT_PRECISIONS


def add_profile_options(p: argparse.ArgumentParser) -> None:
    """What to profile and how (profile, and fleet profile on every node)."""
    p.add_argument("model", nargs="?", help=f"built-in ({', '.join(BUILTIN_NAMES)}; default {DEFAULT_MODEL}) or "
                   "a model file/folder: TorchScript, .pt2, Hugging Face folder, checkpoint")
    p.add_argument("--size", choices=["tiny", "small", "default"], default="default", help="built-in model size")
    p.add_argument("--input", action="append", metavar="SPEC",
                   help="an input of your model: [name=]dtype[d0,d1,...][:low..high], first dim = batch; repeat for several")
    p.add_argument("--seq-len", type=int, help="text models: tokens per sequence (prompt)")
    p.add_argument("--new-tokens", type=int, help="language models: tokens generated per request")
    p.add_argument("--arch", choices=BUILTIN_NAMES, help="built-in architecture a state_dict checkpoint belongs to")
    p.add_argument("--unsafe-pickle-runs-code", action="store_true",
                   help="load a full pickle; it RUNS ARBITRARY CODE from the file: only for files you trust")
    p.add_argument("--device", default="auto", help="auto (first CUDA GPU, else CPU), cpu, cuda, cuda:N, mps")
    p.add_argument("--precision", help=f"comma list of {', '.join(ALL_PRECISIONS)}, or all "
                   f"(default {','.join(DEFAULT_PRECISIONS)})")
    p.add_argument("--batch", help="batch sizes: 1,8,32 or 1..64 for powers of two (default 1,8)")
    p.add_argument("--budget", type=float, default=60.0, metavar="SECONDS",
                   help="time for all latency measurements together (default 60)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds per cell (default 3)")
    p.add_argument("--engine", default="eager", metavar="LIST",
                   help="engines, comma-separated: eager (default), compile, graphs (CUDA), onnxruntime (CPU; CUDA "
                        "with the onnx-gpu extra), tensorrt (CUDA, ONNX Runtime's TensorRT provider: the onnx-gpu "
                        "extra and TensorRT), openvino (CPU); each engine's variants are rows of one report")
    p.add_argument("--quant-library", choices=["auto", "torchao", "torch.ao"], default="auto",
                   help="library for int8 dynamic (auto: torch.ao on CPU eager, else torchao)")
    p.add_argument("--threads", type=int, help="CPU threads (default: all usable CPUs)")
    p.add_argument("--seed", type=int, help="seed of the generated inputs (default 0)")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="hard limit on the whole run")
    p.add_argument("--memory-limit-gib", type=float, help="stop the worker above this memory (default 80%% of RAM)")
    p.add_argument("--no-energy", action="store_true", help="skip the energy windows")
    p.add_argument("--energy-window", type=float, metavar="SECONDS",
                   help="workload looped for at least this long per energy trial (default 5)")
    p.add_argument("--energy-trials", type=int, help="energy windows per variant and batch "
                   "(default: up to 3, as many as fit in 60 s)")
    p.add_argument("--telemetry-interval-ms", type=float, help="sampling period of power, utilisation... "
                   "(default 100; 0 turns telemetry and energy off)")
    p.add_argument("--cpu-tdp-w", type=float, help="your CPU's TDP per socket, for a labelled estimate where "
                   "RAPL is unreadable")
    p.add_argument("--wall-power-w", type=float, help="power under load you measured at the wall (any device)")
    p.add_argument("--idle-wall-power-w", type=float, help="idle power you measured at the wall (for net energy)")


def add_workload_options(r: argparse.ArgumentParser) -> None:
    """The workload, as a file, a preset and options that override them (recommend and report)."""
    r.add_argument("--references", metavar="DIR", help="reports measured on real cards (a folder, such as "
                   "fleet profile --out writes): used for those cards ahead of projections")
    r.add_argument("--workload", help="a workload file (JSON)")
    r.add_argument("--preset", help=f"a built-in workload: {', '.join(preset_names())}")  # the folder's, never a copy
    r.add_argument("--peak-rps", type=float, help="requests per second at the busiest moment")
    r.add_argument("--avg-rps", type=float, help="requests per second on average while in use")
    r.add_argument("--users", type=int, help="instead of rates: the number of users...")
    r.add_argument("--requests-per-user-per-hour", type=float, help="...and how often each sends a request")
    r.add_argument("--p95-ms", type=float, help="latency target at the 95th percentile")
    r.add_argument("--hours-per-day", type=float, help="hours a day the service is used (default 24)")
    r.add_argument("--no-batching", action="store_true", help="requests must be served one by one")
    r.add_argument("--redundancy", choices=("none", "n+1"),
                   help="n+1: cost one spare (a card on premise, an instance rented) so that one failure still holds "
                        "the target (default: n+1 for a service run 24 h a day, else none)")
    r.add_argument("--engine", choices=["auto", *card_engines(), "vllm"],
                   help="how projected cards run the model: auto (default) weighs every validated engine the profile "
                        "shows the model runs with (eager; compile where it ran compiled; TensorRT where it exported to "
                        "ONNX); or one only: eager, compile, graphs (CUDA graphs), onnxruntime (CUDA), tensorrt; for a "
                        "language model's configuration vllm (what auto means there), graphs, eager or tensorrt")
    r.add_argument("--sensitivity", choices=["public", "personal", "health", "sensitive", "classified"],
                   help="each level implies the ones before it (docs/recommendation.md)")
    r.add_argument("--prompt-tokens", type=int, help="language models: tokens in a request's prompt")
    r.add_argument("--output-tokens", type=int, help="language models: tokens in a reply (sized with continuous batching)")
    r.add_argument("--horizon-months", type=int, help="how long the service will run (default 36)")
    r.add_argument("--electricity-eur-kwh", type=float, help="default: EU business average from the catalog")
    r.add_argument("--country", help="ISO code of the site for grid carbon and, where the catalog has it, the "
                   "electricity price, e.g. FR (default: EU average)")
    r.add_argument("--users-region", metavar="CODE",
                   help="where the users are (FR, DE, US-East...; profiles/catalog/rtt.csv): a cloud offer's network "
                        "round trip from there is added to each request (default: the preset's, else none counted)")
    r.add_argument("--carbon-g-kwh", type=float,
                   help="grid carbon intensity, gCO2e per kWh (CO2-equivalent, as the catalog gives it), overrides --country")
    r.add_argument("--pue", type=float, help="data-centre PUE on premise (default: industry average)")
    r.add_argument("--budget-eur", type=float, help="the most the whole horizon may cost")
    r.add_argument("--owned-card", help="hardware already paid for: profiled (the device the profile ran on; the "
                   "default), none, cpu, or a catalog card name")
    r.add_argument("--site", choices=("datacenter", "workstation"),
                   help="where owned or bought hardware runs (default datacenter: rack servers)")
    r.add_argument("--allow-consumer-cards", action="store_true", default=None,
                   help="the site may run GeForce cards in a data centre (their driver licence bars it)")
    r.add_argument("--datacenter-cards-only", action="store_true", default=None,
                   help="buy only passively cooled data-centre cards (no workstation or consumer card with a fan)")
    r.add_argument("--allow-marketplace", action="store_true", default=None,
                   help="public data: consider marketplace offers (third parties' machines, no data-centre SLA)")
    r.add_argument("--owned-count", type=int, help="how many of it (default 1)")
    r.add_argument("--usd-per-eur", type=float, help="exchange rate (default: the catalog's dated exchange rate)")
    r.add_argument("--min-cosine", type=float, help="quality floor for quantized variants (default 0.99)")


class OneLineErrors(argparse.ArgumentParser):
    """Bad usage in one line on stderr, as every other error, with where to read more (argparse prints its usage block
    first); sub-commands' parsers are made of the same class, so this covers each one's missing argument."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("gpu-advisor").strip()
        self.exit(2, f"gpu-advisor: error: {command + ': ' if command else ''}{message}; see {self.prog} --help\n")


def make_parser() -> argparse.ArgumentParser:
    parser = OneLineErrors(prog="gpu-advisor", description="Profile a model on this machine and "
                           "advise where it should run in production.")
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("profile", help="profile a model in several precisions and save a report",
                       description="Profile a model in several precisions; writes a JSON report.")
    add_profile_options(p)
    p.add_argument("--out", help=f"report path (default {DEFAULT_REPORT_DIR}/MODEL-DEVICE-TIME.json; "
                                 "MODEL-DEVICE-incomplete-TIME.json for a run stopped early)")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    p.add_argument("--json", action="store_true", help="print the report JSON on stdout")
    p.add_argument("--events", action="store_true", help="print the raw event stream (JSON lines) on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=cmd_profile)

    o = sub.add_parser("doctor", help="what this machine lacks (Qt libraries, torch build, NVML, RAPL, catalog age) "
                                      "and how to fix it")
    o.add_argument("--json", action="store_true")
    o.set_defaults(func=cmd_doctor)

    fleet = sub.add_parser("fleet", help="the cards of a Ray cluster (needs the fleet extra: pip install "
                                         "'gpu-advisor[fleet]')")
    fleet_sub = fleet.add_subparsers(dest="fleet_command", required=True)
    fn = fleet_sub.add_parser("nodes", help="the cluster's alive nodes: accelerators (Ray's label, checked by NVML on "
                                            "the node), GPUs, CPU, free resources")
    fn.add_argument("--address", required=True, help="the Ray head node, HOST:PORT (nothing else is contacted)")
    fn.add_argument("--json", action="store_true")
    fn.set_defaults(func=cmd_fleet_nodes)
    fp = fleet_sub.add_parser("profile", help="the same profile on one node per accelerator type (or every node), "
                                              "a report per node and a comparison")
    add_profile_options(fp)
    fp.add_argument("--address", required=True, help="the Ray head node, HOST:PORT (nothing else is contacted)")
    fp.add_argument("--per", choices=["accelerator", "node"], default="accelerator",
                    help="one node per accelerator type (default), or every node")
    fp.add_argument("--out", required=True, help="a new folder for the reports (one per node) and comparison.html")
    fp.add_argument("--quiet", action="store_true", help="no progress on stderr")
    fp.set_defaults(func=cmd_fleet_profile)
    d = sub.add_parser("devices", help="list this machine's CPU and GPUs")
    d.add_argument("--json", action="store_true")
    d.set_defaults(func=cmd_devices)

    r = sub.add_parser("recommend", help="keep, upgrade or move to the cloud: for a profile and a workload",
                       description="Recommend where the profiled model should run for a workload; or a language "
                                   "model, from its configuration alone (docs/llm-serving.md).")
    r.add_argument("report", nargs="?", help="a profile report (JSON) made by 'gpu-advisor profile', or a language model's "
                                  "config.json (or its folder): no weights needed")
    add_workload_options(r)
    r.add_argument("--catalog-dir", help="a folder of CSV files extending the bundled catalog")
    r.add_argument("--save-workload", metavar="FILE", help="also save the workload as given (preset + options)")
    r.add_argument("--overwrite", action="store_true", help="replace --save-workload's file if it exists")
    r.add_argument("--json", action="store_true", help="print the recommendation as JSON")
    r.add_argument("--calibration", metavar="CAL.json", help="a language model's configuration: apply a GPU "
                   "measurement's calibration (gpu-advisor assess CONFIG --measure --out CAL.json) to its engine")
    r.set_defaults(func=cmd_recommend)

    j = sub.add_parser("project", help="what-if: how fast the profiled model would run on other cards",
                       description="Project a profile onto catalog cards (measured where a reference exists).")
    j.add_argument("report", help="a profile report (JSON) made by 'gpu-advisor profile'")
    j.add_argument("--card", action="append", metavar="NAME", help="a catalog card (repeat; default: every card)")
    j.add_argument("--precision", help="comma list of the report's precisions (default: every measured one)")
    j.add_argument("--batch", help="batch sizes: 1,8,32 or 1..64 (default: the measured ones)")
    j.add_argument("--engine", choices=card_engines(), default="eager",
                   help="the engine serving on the cards: eager PyTorch (default), compile (torch.compile), graphs "
                        "(torch.compile mode='reduce-overhead', CUDA graphs), onnxruntime (CUDA), tensorrt")
    j.add_argument("--catalog-dir", help="a folder of CSV files extending the bundled catalog")
    j.add_argument("--json", action="store_true", help='print {"projections": [...]} as JSON')
    j.add_argument("--references", metavar="DIR", help="reports measured on real cards (a folder, such as "
                   "fleet profile --out writes): shown as measured for those cards")
    j.set_defaults(func=cmd_project)

    d = sub.add_parser("report", help="a document for a review board: HTML or PDF (with the verdict), or CSV",
                       description="Make a self-contained document from a profile report (and a workload).")
    d.add_argument("report")
    d.add_argument("--format", choices=["html", "pdf", "csv"], default="html")
    d.add_argument("--paper", choices=["a4", "letter"], default="a4", help="PDF page size (default a4)")
    d.add_argument("--out", help="the document's path (default: the report's, with .html or .csv)")
    d.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    add_workload_options(d)
    d.add_argument("--catalog-dir", help="a folder of CSV files extending the bundled catalog")
    d.set_defaults(func=cmd_report)

    v = sub.add_parser("verify", help="check that a document is unchanged and was made from this report (SHA-256)",
                       description="Check a document's own content digest, the report it names and, where it has a "
                       "recommendation, the workload (give the workload options it was made with) and the catalog "
                       "(--catalog-dir as when it was made). Exit 0 when all match, 1 naming what differs.")
    v.add_argument("document")
    v.add_argument("report")
    add_workload_options(v)
    v.add_argument("--catalog-dir", help="the catalog folder the document was made with (default: the one in use)")
    v.set_defaults(func=cmd_verify)

    add_assess_parser(sub)

    k = sub.add_parser("compare", help="set two or more reports side by side, with ratios")
    k.add_argument("reports", nargs="+")
    k.add_argument("--out", help="an HTML document to write (default: the table on the terminal)")
    k.add_argument("--overwrite", action="store_true")
    k.set_defaults(func=cmd_compare)

    c = sub.add_parser("catalog", help="list, filter, validate, export and import the catalog of cards, offers and "
                       "energy facts", description="export: the catalog in use as one dated package (.tar or .tar.gz "
                       "with SHA256SUMS and MANIFEST.json); import SOURCE: check such a package (or its unpacked "
                       "folder), show what it changes and, confirmed, make it the user's catalog folder's files "
                       "(the previous ones kept in a sibling folder). Import exit codes: 0 installed, 1 refused, "
                       "2 usage.")
    c.add_argument("what", nargs="?", default="offers",
                   choices=["offers", "cards", "servers", "energy", "validate", "audit", "export", "import"])
    c.add_argument("source", nargs="?", help="import: the package, a .tar or .tar.gz file or a folder")
    c.add_argument("--search", help="offers: text in provider, offer, card, region or country")
    c.add_argument("--jurisdiction", help="offers: EU or US (the law the provider answers to)")
    c.add_argument("--certification", choices=["HDS", "SecNumCloud", "ISO27001", "C5"], help="offers: certified only")
    c.add_argument("--max-price-per-hour", type=float, help="offers: at most this price per hour")
    c.add_argument("--currency", choices=["EUR", "USD"], help="offers: in this currency")
    c.add_argument("--card", help="offers: with this card (a name from 'catalog cards')")
    c.add_argument("--catalog-dir", help="a folder of CSV files extending or correcting the bundled catalog "
                   "(default: $GPU_ADVISOR_CATALOG); import: the folder to install into")
    c.add_argument("--json", action="store_true")
    c.add_argument("--out", help="export: the package to write (default: gpu-advisor-catalog-YYYY-MM-DD.tar here)")
    c.add_argument("--overwrite", action="store_true", help="export: replace --out if it exists")
    c.add_argument("--yes", action="store_true", help="import: install without asking (after the difference is shown)")
    c.set_defaults(func=cmd_catalog)

    m = sub.add_parser("monitor", help="watch this machine's GPUs and CPU live (power, use, memory, clocks)")
    m.add_argument("--interval", type=float, default=0.5, help="seconds between refreshes (default 0.5)")
    m.add_argument("--count", type=int, help="stop after this many refreshes (default: until Ctrl-C)")
    m.add_argument("--json", action="store_true", help="one JSON line per device and refresh, for scripts")
    m.set_defaults(func=cmd_monitor)

    s = sub.add_parser("show", help="print a saved report's summary (validates it)")
    s.add_argument("report")
    s.add_argument("--json", action="store_true", help="print the validated report JSON")
    s.set_defaults(func=cmd_show)
    return parser
