"""Pillow reference for the media tests: decodes and resizes images the way the reference
processor does (transformers load_image: exif_transpose, convert("RGB"); resize with
Image.BICUBIC, which Pillow antialiases) and writes the pixels as binary PPM.

usage: pil_ref.py decode SRC DST.ppm [SRC DST.ppm ...]
       pil_ref.py resize MANIFEST      (lines: SRC OUT_W OUT_H DST.ppm)
       pil_ref.py exif SRC ORIENTATION DST.jpg   (JPEG with that EXIF orientation tag)
"""
import sys

from PIL import Image, ImageOps


def load(path):
    im = Image.open(path)
    im = ImageOps.exif_transpose(im)
    return im.convert("RGB")


def main():
    cmd = sys.argv[1]
    if cmd == "decode":
        args = sys.argv[2:]
        for src, dst in zip(args[0::2], args[1::2]):
            load(src).save(dst, format="PPM")
    elif cmd == "exif":
        exif = Image.Exif()
        exif[0x0112] = int(sys.argv[3])
        Image.open(sys.argv[2]).convert("RGB").save(sys.argv[4], quality=95, exif=exif.tobytes())
    elif cmd == "resize":
        with open(sys.argv[2]) as f:
            for line in f:
                if not line.strip():
                    continue
                src, w, h, dst = line.split()
                im = load(src)
                im.resize((int(w), int(h)), Image.BICUBIC).save(dst, format="PPM")
    else:
        raise SystemExit("unknown command " + cmd)


if __name__ == "__main__":
    main()
