"""The headless command line (DESIGN.md, "The CLI contract"); never imports Qt.

Exit codes: 0 done; 2 bad input (one line on stderr, no traceback); 3 the job failed
(its reason on stderr); 130 cancelled (Ctrl-C).
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
from contextlib import contextmanager

from engine import settings
from engine.errors import BadInput
from engine.jobs import CancelToken, JobOutcome, Progress, run_job

EXIT_OK, EXIT_BAD_INPUT, EXIT_FAILED, EXIT_CANCELLED = 0, 2, 3, 130
COMMANDS = ("methods", "demo", "train", "run", "export")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deepscope", description="DeepScope, headless")
    sub = parser.add_subparsers(dest="command", required=True)
    methods = sub.add_parser("methods", help="every method, its config fields and defaults")
    methods.add_argument("--json", action="store_true")
    demo = sub.add_parser("demo", help="make sure the demo models exist (train if absent)")
    demo.add_argument("--retrain", action="store_true", help="train again even if present")
    train = sub.add_parser("train", help="train one of our architectures")
    train.add_argument("arch")
    train.add_argument("--data", required=True)
    train.add_argument("--out", required=True)
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    run = sub.add_parser("run", help="run an analysis method and save its result")
    run.add_argument("method")
    run.add_argument("--model", required=True)
    run.add_argument("--model2", default="", help="a second model: one a method compares (location-instability, "
                     "part-interpretability measure it on the same data at its default layer)")
    run.add_argument("--weights", default="", help="weights file for torchvision:ARCH")
    run.add_argument("--trust-pickle", action="store_true",
                     help="allow checkpoints that unpickle Python objects (runs their code)")
    run.add_argument("--data", required=True)
    run.add_argument("--layers", default="")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    run.add_argument("--ray", default="", metavar="auto|ADDRESS",
                     help="run the per-sample pieces (information's chunks, the explanatory graph's E-steps) as "
                          "tasks on a Ray cluster: auto, the one running here or a new local one; or its address")
    run.add_argument("--out", required=True)
    export = sub.add_parser("export", help="write a result's figure or numbers")
    export.add_argument("result_dir")
    export.add_argument("--format", required=True, choices=("png", "svg", "pdf", "csv", "json"))
    export.add_argument("--out", required=True)
    export.add_argument("--dpi", type=int, default=150)
    return parser


def parse_sets(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise BadInput(f"--set {pair!r}: expected KEY=VALUE")
        out[key.strip()] = value.strip()
    return out


@contextmanager
def tqdm_progress(token: CancelToken):
    """A `Progress` drawn as a tqdm bar on stderr, erased on exit (before the outcome is printed)."""
    from tqdm import tqdm  # noqa: PLC0415

    bar = tqdm(total=1000, file=sys.stderr, leave=False, disable=None,  # None: no bar off a terminal
               bar_format="{l_bar}{bar}| {elapsed}")

    def report(fraction: float, message: str) -> None:
        bar.n = int(fraction * 1000)
        bar.set_description_str(message[:40], refresh=False)
        bar.refresh()

    try:
        yield Progress(report, token)
    finally:
        bar.close()


def run_command(args, progress: Progress) -> object:
    """The work of one command; returns what to print (or None)."""
    if args.command == "methods":
        return _methods(args.json)
    if args.command == "demo":
        from engine.demo import ensure_demo_models  # noqa: PLC0415

        report = ensure_demo_models(progress, retrain=args.retrain)
        return "\n".join(f"{name}: {state}" for name, state in report.items())
    if args.command == "train":
        return _train(args, progress)
    if args.command == "run":
        return _run(args, progress)
    from engine.export import export_result  # noqa: PLC0415

    return str(export_result(args.result_dir, args.format, args.out, args.dpi))


def _methods(as_json: bool) -> str:
    from engine.methods import METHODS  # noqa: PLC0415

    table = [{"name": m.name, "kind": m.kind, "summary": m.summary,
              "config": settings.describe(m.config_cls)} for m in METHODS.values()]
    if as_json:
        return json.dumps(table, indent=2)
    lines = []
    for m in table:
        lines.append(f"{m['name']}: {m['summary']}")
        lines += [f"  {f['name']} = {f['default']!r} {f['unit']}  # {f['doc']}" for f in m["config"]]
    return "\n".join(lines)


def _train(args, progress: Progress) -> str:
    from engine.models.training import TrainConfig, train  # noqa: PLC0415

    config = settings.from_strings(TrainConfig, parse_sets(args.set))
    description = train(args.arch, args.data, args.out, config, progress)
    t = description["training"]
    return f"{args.out}: held-out accuracy {t['val_accuracy']:.4f}, trained in {t['seconds']} s"


def _run(args, progress: Progress) -> str:
    from engine.analysis import AnalysisRequest, execute  # noqa: PLC0415
    from engine.results import save_result  # noqa: PLC0415

    request = AnalysisRequest(
        args.method, args.model, args.data, [l for l in args.layers.split(",") if l],
        parse_sets(args.set), args.seed, args.device, args.model2, args.weights, args.trust_pickle, args.ray)
    record = execute(request, progress)
    save_result(record, args.out)
    return args.out


def exit_code(outcome: JobOutcome) -> int:
    if outcome.ok:
        return EXIT_OK
    if outcome.status == "cancelled":
        return EXIT_CANCELLED
    return EXIT_BAD_INPUT if outcome.bad_input else EXIT_FAILED


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    token = CancelToken()
    signal.signal(signal.SIGINT, lambda *_: token.cancel())
    with tqdm_progress(token) as progress:
        outcome = run_job(lambda p: run_command(args, p), progress)
    if outcome.ok and outcome.value:
        print(outcome.value)
    elif not outcome.ok:
        print(f"deepscope {args.command}: {outcome.reason}", file=sys.stderr)
    return exit_code(outcome)


if __name__ == "__main__":
    sys.exit(main())
