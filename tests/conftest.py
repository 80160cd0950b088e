"""Settings every test process needs before anything else is imported.

torch and torchvision come first: torchvision imports triton, which carries its own LLVM,
and that import segfaults once Mesa's llvmpipe has loaded its LLVM (ENVIRONMENT.md rule 1).
"""
import torch  # noqa: F401  (first, see above)
import torchvision  # noqa: F401

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MPLBACKEND", "Agg")
