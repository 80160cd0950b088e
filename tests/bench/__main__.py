"""The benchmark report (issue 10 §3): `python -m tests.bench [--out DIR] [--only NAME,...]`.

Runs every benchmark of this folder as its own process (each measures its ratios within one
run, against a baseline of the same run), keeps the JSON each prints last, and writes
`bench-report.json` and `bench-report.md` (one table a benchmark, with the machine it ran on)
into DIR (default docs/bench). A benchmark that fails is reported as failed with the end of
its error output; the others still run. The point-cloud pane needs a display: without one it
runs under `xvfb-run -a`.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from engine.files import write_atomically

BENCHES = {name: [sys.executable, "-m", f"tests.bench.{name}"]
           for name in ("activations_overhead", "information", "explanatory_graph", "consistency", "point_cloud",
                        "ray_sharding", "gui_heap", "graph_pane", "window_updates")}
NEEDS_DISPLAY = {"point_cloud", "graph_pane", "window_updates"}
DEFAULT_OUT = Path("docs/bench")


def command_for(name: str) -> list[str]:
    if name in NEEDS_DISPLAY and not os.environ.get("DISPLAY") and shutil.which("xvfb-run"):
        return ["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24", *BENCHES[name]]
    return BENCHES[name]


def last_json(text: str) -> dict:
    """The last JSON object a benchmark printed: the whole output, or its last `{` block."""
    lines = text.strip().splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("{")]
    for start in reversed(starts):
        try:
            return json.loads("\n".join(lines[start:]))
        except json.JSONDecodeError:
            continue
    raise ValueError("printed no JSON object")


def run_bench(name: str) -> dict:
    """{"status": "ok", "seconds", "results"} or {"status": "failed", "seconds", "error"}."""
    started = time.perf_counter()
    done = subprocess.run(command_for(name), capture_output=True, text=True)
    seconds = round(time.perf_counter() - started, 1)
    if done.returncode == 0:
        try:
            return {"status": "ok", "seconds": seconds, "results": last_json(done.stdout)}
        except ValueError as exc:
            return {"status": "failed", "seconds": seconds, "error": str(exc)}
    tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
    return {"status": "failed", "seconds": seconds, "error": f"exit {done.returncode}: " + " | ".join(tail)}


def machine() -> dict:
    import torch  # noqa: PLC0415 (only for the description)

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none (CPU only)"
    return {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
            "torch": torch.__version__, "torch_threads": torch.get_num_threads(), "gpu": gpu,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def flatten(results: dict, prefix: str = "") -> list[tuple[str, object]]:
    """Nested results as (dotted key, value) rows."""
    rows = []
    for key, value in results.items():
        if isinstance(value, dict):
            rows += flatten(value, f"{prefix}{key}.")
        else:
            rows.append((f"{prefix}{key}", value))
    return rows


def markdown(report: dict) -> str:
    described = ", ".join(f"{k} {v}" for k, v in report["machine"].items())
    parts = ["# Benchmark report", "", f"Machine: {described}.", "",
             "Ratios are measured within one run against a baseline of the same run; "
             "absolute seconds mean something only on the machine named here.", ""]
    for name, outcome in report["benches"].items():
        parts += [f"## {name} ({outcome['status']}, {outcome['seconds']} s)", ""]
        if outcome["status"] != "ok":
            parts += [f"`{outcome['error']}`", ""]
            continue
        parts += ["| measure | value |", "|---|---|"]
        parts += [f"| {key} | {json.dumps(value) if isinstance(value, (list, bool)) or value is None else value} |"
                  for key, value in flatten(outcome["results"])]
        parts.append("")
    return "\n".join(parts)


def write_report(report: dict, out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    as_json, as_markdown = out / "bench-report.json", out / "bench-report.md"
    write_atomically(as_json, lambda tmp: Path(tmp).write_text(json.dumps(report, indent=2)))
    write_atomically(as_markdown, lambda tmp: Path(tmp).write_text(markdown(report)))
    return as_json, as_markdown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--only", default="", help="comma-separated names of: " + ", ".join(BENCHES))
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r}; valid: {', '.join(BENCHES)}")
    report = {"machine": machine(), "benches": {}}
    for name in names:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        report["benches"][name] = run_bench(name)
    for path in write_report(report, args.out):
        print(path)
    return 0 if all(o["status"] == "ok" for o in report["benches"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
