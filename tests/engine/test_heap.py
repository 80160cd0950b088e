"""engine/heap.py: the freed heap goes back to the system (glibc's malloc_trim)."""
from __future__ import annotations

import json
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")

# in a fresh interpreter, so that the heap holds nothing else: 100 KB blocks (under glibc's
# least mmap threshold, so heap blocks) with a small live block after each; freeing the big
# ones leaves 200 MB of holes that no top-of-heap trim can reach
FRAGMENT = """
import json, numpy as np, psutil
from engine.heap import trim_freed_heap
mb = lambda: psutil.Process().memory_info().rss / 2**20
big, small = [], []
for _ in range(2000):
    big.append(np.ones(100 * 1024 // 8))
    small.append(np.ones(16))
full = mb()
del big
freed = mb()
trimmed = trim_freed_heap()
print(json.dumps({"full": full, "freed": freed, "trimmed": trimmed, "after": mb(), "live": len(small)}))
"""


def test_trimming_gives_back_the_holes_small_live_blocks_pin():
    out = json.loads(subprocess.run([sys.executable, "-c", FRAGMENT], capture_output=True, text=True,
                                    check=True).stdout)
    assert out["full"] - out["freed"] < 20          # freeing alone gives (almost) nothing back
    assert out["trimmed"] and out["freed"] - out["after"] > 150
    assert out["live"] == 2000
