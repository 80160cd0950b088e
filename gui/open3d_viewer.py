"""`python -m gui.open3d_viewer FILE.ply [--title T] [--delete]`: a coloured cloud in Open3D's window.

Its own process, started by the point-cloud pane without waiting for it: Open3D's
Visualizer breaks the vispy canvas of the process it renders in, and its window cannot be
embedded in Qt (ENVIRONMENT.md rule 3). Qt-free, and it never imports torch.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPOSITORY = Path(__file__).resolve().parents[1]   # where `-m gui.open3d_viewer` resolves without an install


def write_cloud(path: str | Path, points: np.ndarray, rgb: np.ndarray) -> Path:
    """A binary .ply of the points with their colours (rgb in [0, 1], stored as bytes)."""
    import open3d as o3d  # noqa: PLC0415 (large: only when a cloud is written)

    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(np.asarray(points, np.float64)))
    cloud.colors = o3d.utility.Vector3dVector(np.clip(np.asarray(rgb, np.float64), 0, 1))
    if not o3d.io.write_point_cloud(str(path), cloud):
        raise OSError(f"Open3D could not write {path}")
    return Path(path)


def viewer_command(path: str | Path, title: str) -> list[str]:
    """The command line of the viewer process: it deletes the temporary file once it has read it."""
    return [sys.executable, "-m", "gui.open3d_viewer", str(path), "--title", title, "--delete"]


def launch(points: np.ndarray, rgb: np.ndarray, title: str) -> list[str]:
    """Write the cloud to a temporary .ply and start the viewer on it; returns at once."""
    handle, path = tempfile.mkstemp(prefix="deepscope-", suffix=".ply")
    os.close(handle)
    write_cloud(path, points, rgb)
    command = viewer_command(path, title)
    subprocess.Popen(command, cwd=REPOSITORY, start_new_session=True, stdin=subprocess.DEVNULL)
    return command


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gui.open3d_viewer")
    parser.add_argument("file")
    parser.add_argument("--title", default="DeepScope")
    parser.add_argument("--delete", action="store_true", help="remove FILE once read (a temporary file)")
    args = parser.parse_args(argv)
    import open3d as o3d  # noqa: PLC0415

    cloud = o3d.io.read_point_cloud(args.file)
    if args.delete:
        os.remove(args.file)
    if not cloud.has_points():
        print(f"{args.file} holds no points", file=sys.stderr)
        return 2
    o3d.visualization.draw_geometries([cloud], window_name=args.title)
    return 0


if __name__ == "__main__":
    sys.exit(main())
