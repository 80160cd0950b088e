"""Draw DeepScope's icon (resources/icons/deepscope.png, 256×256): a small explanatory graph, nodes
in three bands joined to their parents, under a lens. `python packaging/make_icon.py` writes it."""
from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

SIZE = 256
OUT = Path(__file__).resolve().parents[1] / "resources" / "icons" / "deepscope.png"
BANDS = [[(128, 52)], [(80, 112), (176, 112)], [(52, 172), (104, 172), (152, 172), (204, 172)]]
COLOURS = [(230, 85, 13), (49, 130, 189), (49, 163, 84)]


def draw() -> Image.Image:
    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    pen.rounded_rectangle((8, 8, SIZE - 8, SIZE - 8), radius=40, fill=(28, 30, 38, 255))
    for upper, lower in zip(BANDS, BANDS[1:]):
        for k, child in enumerate(lower):
            parent = upper[k * len(upper) // len(lower)]
            pen.line((parent, child), fill=(200, 200, 210, 255), width=6)
    for band, colour in zip(BANDS, COLOURS):
        for x, y in band:
            pen.ellipse((x - 16, y - 16, x + 16, y + 16), fill=colour + (255,), outline=(255, 255, 255, 255), width=3)
    pen.ellipse((120, 120, 220, 220), outline=(255, 220, 120, 255), width=10)   # the lens
    pen.line((206, 206, 238, 238), fill=(255, 220, 120, 255), width=16)
    return image


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    draw().save(OUT)
    print(OUT)
