"""Entry point `deepscope`: CLI subcommands without Qt, otherwise the main window.

torch and torchvision are imported before anything that can create an OpenGL context
(ENVIRONMENT.md rule 1: torchvision's triton LLVM segfaults after Mesa's is loaded).
"""
from __future__ import annotations

import torch  # noqa: F401  (first: see the module docstring)
import torchvision  # noqa: F401

import argparse
import os
import sys
from pathlib import Path

from engine import cli


def demo_session_dir() -> Path:
    home = os.environ.get("DEEPSCOPE_HOME") or Path.home() / ".local" / "share" / "deepscope"
    return Path(home) / "demo-session"


def gui_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deepscope", description="DeepScope: "
                                     f"GUI (no command) or one of {', '.join(cli.COMMANDS)}")
    sub = parser.add_subparsers(dest="command")
    opener = sub.add_parser("open", help="the GUI on a saved session")
    opener.add_argument("session_dir")
    shot = sub.add_parser("screenshot", help="render the window to a PNG and exit")
    shot.add_argument("--out", required=True)
    shot.add_argument("--pane", default="")
    shot.add_argument("--session", default="")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in cli.COMMANDS:
        return cli.main(argv)
    args = gui_parser().parse_args(argv)
    from gui.launch import leave, run_gui, screenshot  # noqa: PLC0415 (Qt only from here on)

    if args.command == "screenshot":
        leave(screenshot(args.session or str(demo_session_dir()), args.out, args.pane))
    if args.command == "open":
        leave(run_gui(args.session_dir, create=False))
    leave(run_gui(str(demo_session_dir())))


if __name__ == "__main__":
    sys.exit(main())
