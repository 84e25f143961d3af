"""Writes the image fixtures for tests/image_test.cpp with Pillow (the library Hugging Face's
image processors resize with) and numpy:

  *.png / *.jpg          small test images (RGB, L, palette, RGBA, progressive JPEG)
  expected.safetensors   decoded/<file>           U8 [H, W, C] as Pillow decodes it (convert RGB or L)
                         resize/<filter>/<w>x<h>/<file>  U8 [H, W, C] = Image.resize((w, h), filter)
                         pixel_values/<file>      F32 [1, 3, 30, 30]: ViTImageProcessor's math (bilinear
                                                  resize, x * (1/255) in float64 -> float32, (x - 0.5) / 0.5
                                                  in float32), transcribed from transformers'
                                                  image_transforms.rescale / normalize

Run: /usr/bin/python3 tests/data/images/make_images.py (Pillow 9.4, Debian's, linked to the system
libjpeg-turbo 2.1 that tessera links too, so decoded JPEG pixels match exactly).
"""
import os
import sys

import numpy as np
import PIL
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "tools", "reference"))
import st  # noqa: E402

rng = np.random.default_rng(20240607)


def smooth_noise(h, w, c):
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([(x * 255 / max(w - 1, 1)), (y * 255 / max(h - 1, 1)), ((x + y) * 7) % 256], -1)[..., :c]
    img = base + rng.normal(0, 40, size=(h, w, c))
    img[h // 3: h // 2, w // 4: w // 2] = 255  # a hard edge, where filters ring
    img[h // 2:, w // 2: w // 2 + 2] = 0
    return np.clip(img, 0, 255).astype(np.uint8)


def main():
    files = {}
    rgb = Image.fromarray(smooth_noise(23, 37, 3), "RGB")
    rgb.save(os.path.join(HERE, "rgb.png"))
    files["rgb.png"] = "RGB"
    Image.fromarray(smooth_noise(19, 26, 1)[..., 0], "L").save(os.path.join(HERE, "gray.png"))
    files["gray.png"] = "L"
    rgb.quantize(colors=16).save(os.path.join(HERE, "palette.png"))
    files["palette.png"] = "RGB"
    rgba = rgb.copy()
    rgba.putalpha(Image.fromarray(smooth_noise(23, 37, 1)[..., 0], "L"))
    rgba.save(os.path.join(HERE, "rgba.png"))
    files["rgba.png"] = "RGB"
    big = Image.fromarray(smooth_noise(48, 64, 3), "RGB")
    big.save(os.path.join(HERE, "rgb.jpg"), quality=90)
    files["rgb.jpg"] = "RGB"
    big.save(os.path.join(HERE, "progressive.jpg"), quality=80, progressive=True)
    files["progressive.jpg"] = "RGB"
    Image.fromarray(smooth_noise(40, 30, 1)[..., 0], "L").save(os.path.join(HERE, "gray.jpg"), quality=85)
    files["gray.jpg"] = "L"

    out = {}
    decoded = {}
    for name, mode in files.items():
        im = Image.open(os.path.join(HERE, name)).convert(mode)
        decoded[name] = im
        a = np.asarray(im)
        if a.ndim == 2:
            a = a[..., None]
        out["decoded/" + name] = torch.from_numpy(a.copy())

    filters = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC,
               "lanczos": Image.LANCZOS, "box": Image.BOX, "hamming": Image.HAMMING}
    sizes = [(16, 10), (50, 40), (20, 30), (37, 11), (5, 23), (61, 47), (1, 1)]
    for fname, f in filters.items():
        for (w, h) in sizes:
            for name in ("rgb.png", "gray.png", "rgb.jpg"):
                a = np.asarray(decoded[name].resize((w, h), resample=f, reducing_gap=None))
                if a.ndim == 2:
                    a = a[..., None]
                out["resize/%s/%dx%d/%s" % (fname, w, h, name)] = torch.from_numpy(a.copy())

    for name in ("rgb.png", "rgb.jpg", "gray.jpg"):
        im = decoded[name].convert("RGB").resize((30, 30), resample=Image.BILINEAR, reducing_gap=None)
        x = (np.asarray(im).astype(np.float64) * (1 / 255)).astype(np.float32)
        mean = np.array([0.5, 0.5, 0.5], dtype=np.float32)
        std = np.array([0.5, 0.5, 0.5], dtype=np.float32)
        x = (x - mean) / std
        out["pixel_values/" + name] = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)[None]))

    st.save(out, os.path.join(HERE, "expected.safetensors"),
            metadata={"generated_by": "tests/data/images/make_images.py", "pillow": PIL.__version__})


if __name__ == "__main__":
    main()
